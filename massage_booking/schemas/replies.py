"""Error answers many operations document in the same words."""

from __future__ import annotations

VALIDATION = "A field breaks a rule; `details.fields` names each one."
RATE_LIMITED = "Too many attempts from this address; wait and try again."
NOT_FOUND = "Nothing has that id, or it is not yours."
