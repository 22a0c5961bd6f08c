"""A localstripe server (a stateful Stripe API server from PyPI) for the payment tests.

Why a real server rather than a mock: the adapter is exercised through the real `stripe` SDK, its HTTP client,
its error mapping and its idempotency headers, against a server that keeps PaymentIntents, charges and refunds
the way Stripe does.

How it runs:
- `python -m localstripe --port N --from-scratch`, as a child of the test session. `--from-scratch` matters:
  without it localstripe reloads the store it pickles after every write to a fixed file
  (/tmp/localstripe.pickle), and would start with another session's objects.
- N is a free port picked on 127.0.0.1. localstripe 1.15 has no host option and binds `[::]` (all interfaces,
  IPv4 and IPv6); the tests talk to it on 127.0.0.1. If the port is taken between picking and binding, it is
  started again on another.
- It is ready when its stand-in Stripe.js (`/js.stripe.com/v3/`) answers; output goes to a log file whose tail
  is shown if it cannot start.
- `stop()` terminates it (kill after 10 s); also at interpreter exit, so a crashed session leaves no server.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
STARTUP_SECONDS = 20.0
ATTEMPTS = 3


class LocalStripeError(RuntimeError):
    """localstripe could not be started."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class LocalStripe:
    """`start()` returns the API base URL (e.g. http://127.0.0.1:41234); `stop()` ends the server."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="massage-booking-localstripe-"))
        self.log_path = self.root / "localstripe.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def js_url(self) -> str:
        """localstripe's stand-in for https://js.stripe.com/v3/ (STRIPE_JS_URL in dev and tests)."""
        return f"{self.url}/js.stripe.com/v3/"

    def start(self) -> str:
        atexit.register(self.stop)
        problems = []
        for _ in range(ATTEMPTS):
            self.port = _free_port()
            problem = self._start_once()
            if problem is None:
                return self.url
            problems.append(problem)
        raise LocalStripeError(
            f"localstripe did not start ({ATTEMPTS} attempts). It is a dev dependency: "
            f"pip install -e '.[dev]'.\n" + "\n---\n".join(problems)
        )

    def _start_once(self) -> str | None:
        """Start on self.port and wait until it answers; None if it did, else why not (with its log)."""
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "localstripe", "--port", str(self.port), "--from-scratch"],
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        finally:
            log.close()  # the child has its own copy of the descriptor
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"exited with {self.process.returncode} on port {self.port}:\n{self._log_tail()}"
            if self._answers():
                return None
            time.sleep(0.05)
        self.stop()
        return f"no answer on port {self.port} within {STARTUP_SECONDS:.0f} s:\n{self._log_tail()}"

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.js_url, timeout=1) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def flush(self) -> None:
        """Empty localstripe's store (`DELETE /_config/data`), for a test that needs no earlier objects."""
        request = urllib.request.Request(f"{self.url}/_config/data", method="DELETE")
        with urllib.request.urlopen(request, timeout=5):
            pass

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
