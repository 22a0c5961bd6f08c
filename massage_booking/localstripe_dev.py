"""localstripe (a stateful Stripe API server from PyPI) for development and tests; never used in production.

Two users:
- the tests (the `localstripe` fixture in tests/conftest.py): one server per session on a free port;
- `make run`, through `python -m massage_booking.localstripe_dev --host H --port P`: starts localstripe,
  registers a webhook to the app's POST /stripe/webhook with a fresh `whsec_` secret, runs `flask run` with
  STRIPE_* pointing at it, and stops both on Ctrl-C (SIGINT), SIGTERM or SIGHUP. Without localstripe
  installed, or if it cannot start, it says so loudly and runs the app in "pay at the visit" mode; with
  STRIPE_SECRET_KEY already in the environment it starts no localstripe and leaves STRIPE_* alone.

How localstripe runs:
- `python -m localstripe --port N --from-scratch`, as a child process. `--from-scratch` matters: without it
  localstripe reloads the store it pickles after every write to a fixed file (/tmp/localstripe.pickle), and
  would start with another run's objects.
- N is the port asked for (8420 for `make run`) if it is free, else a free one. localstripe 1.15 has no host
  option and binds `[::]` (all interfaces, IPv4 and IPv6); we talk to it on 127.0.0.1. If the port is taken
  between checking and binding, it is started again on another.
- It is ready when its stand-in Stripe.js (`/js.stripe.com/v3/`) answers; its output (access log and
  webhook deliveries) goes to a log file whose tail is shown if it cannot start.
- `stop()` terminates it (kill after 10 s); also at interpreter exit. With `die_with_parent=True` (Linux)
  the kernel also ends it if its parent dies without cleaning up (SIGKILL).
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

HOST = "127.0.0.1"
DEFAULT_PORT = 8420
STARTUP_SECONDS = 20.0
ATTEMPTS = 3
# localstripe accepts any key that starts with sk_ / pk_; these are not Stripe credentials.
TEST_SECRET_KEY = "sk_test_localstripe"  # noqa: S105 - not a secret
TEST_PUBLISHABLE_KEY = "pk_test_localstripe"
WEBHOOK_ID = "massage_booking"
WEBHOOK_PATH = "/stripe/webhook"


class LocalStripeError(RuntimeError):
    """localstripe could not be started, or did not take a webhook."""


def installed() -> bool:
    """Whether the localstripe package (a dev extra: pip install -e '.[dev]') can be imported here."""
    return importlib.util.find_spec("localstripe") is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    """Whether localstripe could bind `port` the way it does: dual-stack `[::]` with SO_REUSEADDR."""
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        address: tuple[str, int] = ("::", port)
    except OSError:  # no IPv6 here: check IPv4 on every interface instead
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        address = ("0.0.0.0", port)  # noqa: S104 - only a bind test, closed at once
    with sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError:
            return False
    return True


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """preexec_fn: ask Linux to SIGTERM this child when the parent exits (prctl PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _preexec(die_with_parent: bool) -> Callable[[], None] | None:
    return _die_with_parent if die_with_parent and sys.platform.startswith("linux") else None


class LocalStripe:
    """`start()` returns the API base URL (e.g. http://127.0.0.1:8420); `stop()` ends the server.

    `port`: the port to use if it is free (None: any free port). `die_with_parent`: see the module notes;
    only for a parent whose starting thread lives as long as the server (the `make run` launcher).
    """

    def __init__(self, port: int | None = None, *, die_with_parent: bool = False) -> None:
        self.preferred_port = port
        self.die_with_parent = die_with_parent
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

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> str:
        atexit.register(self.stop)
        problems = []
        for attempt in range(ATTEMPTS):
            preferred = self.preferred_port
            use_preferred = attempt == 0 and preferred is not None and _port_is_free(preferred)
            self.port = preferred if use_preferred and preferred is not None else _free_port()
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
            self.process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
                [sys.executable, "-m", "localstripe", "--port", str(self.port), "--from-scratch"],
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                preexec_fn=_preexec(self.die_with_parent),
            )
        finally:
            log.close()  # the child has its own copy of the descriptor
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"exited with {self.process.returncode} on port {self.port}:\n{self._log_tail()}"
            # Still running after it answered: the answer came from our server, not another one on the port.
            if self._answers() and self.process.poll() is None:
                return None
            time.sleep(0.05)
        self.stop()
        return f"no answer on port {self.port} within {STARTUP_SECONDS:.0f} s:\n{self._log_tail()}"

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.js_url, timeout=1) as response:  # noqa: S310 - our http URL
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def register_webhook(
        self, url: str, secret: str, hook_id: str = WEBHOOK_ID, events: Sequence[str] | None = None
    ) -> None:
        """Have localstripe send its events, signed with `secret`, to `url` (`POST /_config/webhooks/{id}`;
        the same id again replaces the hook). `events`: only these types (default: all)."""
        fields: list[tuple[str, str]] = [("url", url), ("secret", secret)]
        fields += [("events[]", name) for name in events or ()]
        request = urllib.request.Request(  # noqa: S310 - our http URL
            f"{self.url}/_config/webhooks/{urllib.parse.quote(hook_id, safe='')}",
            data=urllib.parse.urlencode(fields).encode(),
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5):  # noqa: S310
                pass
        except (urllib.error.URLError, OSError) as exc:
            raise LocalStripeError(f"localstripe refused the webhook for {url}: {exc}") from exc

    def flush(self) -> None:
        """Empty localstripe's store (`DELETE /_config/data`), for a test that needs no earlier objects."""
        request = urllib.request.Request(f"{self.url}/_config/data", method="DELETE")  # noqa: S310
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310
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


# --- `python -m massage_booking.localstripe_dev`: the app with localstripe, for `make run` ------------------

RULE = "=" * 78


def _loopback_for(host: str) -> str:
    """The host localstripe should post webhooks to for an app listening on `host`."""
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 - comparing, not binding
        return HOST
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _say(lines: Sequence[str]) -> None:
    print("\n".join(lines), flush=True)


def _warn(message: str, detail: str = "") -> None:
    lines = ["", "!" * 78, f"!!  {message}"]
    lines += [f"!!  {line}" for line in detail.splitlines()]
    lines += ['!!  The app starts in "pay at the visit" mode: no card payments.', "!" * 78, ""]
    print("\n".join(lines), file=sys.stderr, flush=True)


def _start_payments(
    app_host: str, app_port: int, stripe_port: int
) -> tuple[LocalStripe | None, dict[str, str]]:
    """Start localstripe and register the app's webhook; (server, STRIPE_* environment) or (None, {})."""
    if not installed():
        _warn(
            "localstripe is not installed in this environment, so there are no card payments.",
            "It is a dev extra: .venv/bin/pip install -e '.[dev]' (make run does this on a fresh machine).",
        )
        return None, {}
    server = LocalStripe(stripe_port, die_with_parent=True)
    secret = "whsec_" + secrets.token_hex(24)
    webhook_url = f"http://{_loopback_for(app_host)}:{app_port}{WEBHOOK_PATH}"
    try:
        server.start()
        server.register_webhook(webhook_url, secret)
    except LocalStripeError as exc:
        server.stop()
        _warn("localstripe could not be started, so there are no card payments.", str(exc))
        return None, {}
    except BaseException:  # a stop signal while starting: leave nothing running
        server.stop()
        raise
    return server, {
        "STRIPE_SECRET_KEY": TEST_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": TEST_PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": secret,
        "STRIPE_API_BASE": server.url,
        "STRIPE_JS_URL": server.js_url,
    }


def _banner(host: str, port: int, server: LocalStripe | None, own_keys: bool) -> list[str]:
    lines = [
        "",
        RULE,
        f"  massage_booking is starting on  http://{host}:{port}/",
        "  Log in with a demo account listed above (Ctrl-C stops the server).",
        "",
    ]
    if server is not None:
        lines += [
            f"  Card payments are TEST payments through localstripe at {server.url}",
            "  (a local fake Stripe; no real money moves). Test cards:",
            "    4242 4242 4242 4242   pays",
            "    4000 0000 0000 0002   is declined",
            "    4000 0000 0000 0341   is accepted, then declined when charged",
            "  with any future expiry date, any CVC and any ZIP.",
            f"  localstripe's log (requests, webhook deliveries): {server.log_path}",
        ]
    elif own_keys:
        lines += ["  Card payments use the STRIPE_* settings from your environment (no localstripe)."]
    else:
        lines += ['  Payments: "pay at the visit" mode (no card payments; see the warning above).']
    lines += [
        "",
        "  E-mails wait in the outbox until `flask --app app send-outbox` runs (cron, or --loop 30);",
        "  with no MAIL_SERVER it writes them to instance/mail.log (MAIL_LOG_FILE) instead of sending.",
    ]
    return [*lines, RULE, ""]


class _Stop(Exception):
    """A stop signal (SIGINT, SIGTERM, SIGHUP) arrived."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signum)


def _end(process: subprocess.Popen[bytes], signum: int) -> None:
    """Pass the signal on to the app and give it 10 s to stop, then kill it."""
    if process.poll() is not None:
        return
    process.send_signal(signum)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m massage_booking.localstripe_dev",
        description="Run the app (flask run) with card payments through a localstripe started beside it.",
    )
    parser.add_argument("--host", default=HOST, help="where the app listens (default: %(default)s)")
    parser.add_argument("--port", type=int, default=5000, help="the app's port (default: %(default)s)")
    parser.add_argument(
        "--stripe-port",
        type=int,
        default=DEFAULT_PORT,
        help="localstripe's port if free, else any free one (default: %(default)s)",
    )
    parser.add_argument("--app", default="app", help="the Flask app to run (default: %(default)s)")
    args = parser.parse_args(argv)

    # Ctrl-C reaches every process of the terminal's foreground group (make, us, flask, localstripe);
    # SIGTERM or SIGHUP may reach only us. Either way: stop the app, then localstripe, then exit.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_stop)

    server: LocalStripe | None = None
    app: subprocess.Popen[bytes] | None = None
    stopped_by = signal.SIGTERM
    try:
        own_keys = bool(os.environ.get("STRIPE_SECRET_KEY"))
        stripe_env: dict[str, str] = {}
        if own_keys:
            print("STRIPE_SECRET_KEY is set in the environment: using it, no localstripe.", flush=True)
        else:
            server, stripe_env = _start_payments(args.host, args.port, args.stripe_port)
        _say(_banner(args.host, args.port, server, own_keys))
        command = [sys.executable, "-m", "flask", "--app", args.app, "run"]
        command += ["--host", args.host, "--port", str(args.port)]
        app = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
            command,
            env={**os.environ, **stripe_env},
            preexec_fn=_preexec(True),
        )
        warned = False
        while True:
            try:
                return app.wait(1)
            except subprocess.TimeoutExpired:
                pass
            if server is not None and not server.running and not warned:
                warned = True
                _warn(
                    "localstripe has stopped: card payments will fail until you restart make run.",
                    f"Its log: {server.log_path}",
                )
    except _Stop as stop:
        stopped_by = signal.Signals(stop.signum)
        print(f"\nStopping ({stopped_by.name}) ...", file=sys.stderr, flush=True)
        return 0
    finally:
        # No second signal may cut the clean-up short (a second Ctrl-C, say).
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        if app is not None:
            _end(app, signal.SIGINT if stopped_by == signal.SIGINT else signal.SIGTERM)
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
