"""Where the links in a message point and what signs them, passed in from the edge.

A message is composed when something happens, which may be in a request, a CLI command or a worker: none of
them can be asked "which request is this?", so the app's settings (PUBLIC_BASE_URL, SECRET_KEY) are read
once at the edge (`extensions.links()`) and handed down like the clock.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from massage_booking.notifications import unsubscribe

DEFAULT_BASE_URL = "http://127.0.0.1:5000"


@dataclass(frozen=True)
class Links:
    base_url: str
    secret_key: str

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> Links:
        """The app's links: PUBLIC_BASE_URL (a message sent by the CLI has no request to take a host from)."""
        base_url = str(config.get("PUBLIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        return cls(base_url=base_url, secret_key=str(config["SECRET_KEY"]))

    @classmethod
    def local(cls) -> Links:
        """Links to an instance on this machine, signed with a throwaway key: for tooling (the demo seed)
        that queues mail but never needs a signed link to be read back."""
        return cls(base_url=DEFAULT_BASE_URL, secret_key=secrets.token_urlsafe(32))

    def unsubscribe_url(self, user_id: int) -> str:
        return f"{self.base_url}/unsubscribe/{unsubscribe.token_for(user_id, self.secret_key)}"
