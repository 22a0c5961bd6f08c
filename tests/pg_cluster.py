"""A throwaway PostgreSQL cluster for the test suite's PostgreSQL lane.

`initdb` and `postgres` refuse to run as root, so when the tests run as root (as on the CI machines) every
server command runs as the `postgres` user through `runuser`, in a private temporary directory owned by
that user. The server listens on 127.0.0.1 only, on a free port, with its unix socket inside that
directory, and it is created without fsync: the data is thrown away when the session ends.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

SERVER_USER = "postgres"
DATABASE = "massage_booking_test"


def missing_tools() -> str | None:
    """Why a cluster cannot be started here, or None if it can."""
    for tool in ("initdb", "pg_ctl", "postgres"):
        if shutil.which(tool) is None:
            return (
                f"`{tool}` is not on PATH. Install PostgreSQL (apt-get install postgresql) and put its bin "
                "directory (e.g. /usr/lib/postgresql/15/bin) on PATH, or point TEST_DATABASE_URL at a server"
            )
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root, and `runuser` is missing (initdb and postgres refuse to run as root)"
        try:
            import pwd

            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root, and there is no `{SERVER_USER}` user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """`start()` returns a SQLAlchemy URL of an empty database; `stop()` removes everything."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="massage-booking-pg-"))  # mode 0700
        self.data = self.root / "data"
        self.password = secrets.token_urlsafe(16)
        self.port = 0
        self.running = False

    def _run(self, *argv: str) -> None:
        as_server_user = ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []
        result = subprocess.run(
            [*as_server_user, *argv], cwd=self.root, capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )

    def start(self) -> str:
        atexit.register(self.stop)  # also when the session dies without running fixture teardown
        password_file = self.root / "password"
        password_file.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.root, SERVER_USER)
            shutil.chown(password_file, SERVER_USER)
        self._run(
            "initdb", "-D", str(self.data), "-U", SERVER_USER, "--auth=scram-sha-256",
            f"--pwfile={password_file}", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        password_file.unlink()
        for attempt in range(3):  # another process may take the free port before the server binds it
            self.port = _free_port()
            try:
                self._pg_ctl_start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise RuntimeError(self.log_tail()) from None
        self.running = True
        return create_database(
            f"postgresql+psycopg://{SERVER_USER}:{self.password}@127.0.0.1:{self.port}/postgres", DATABASE
        )

    def _pg_ctl_start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60",
            "-o", f"{options} -p {self.port}", "start",
        )  # fmt: skip

    def stop_server(self) -> None:
        """Shut the server down as an outage would (sessions terminated), keeping its data and port."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.running = False

    def start_server(self) -> None:
        """Start the server `stop_server` stopped, on the same data directory and port."""
        self._pg_ctl_start()
        self.running = True

    def log_tail(self, lines: int = 30) -> str:
        log = self.root / "server.log"
        return "\n".join(log.read_text().splitlines()[-lines:]) if log.exists() else "(no server log)"

    def stop(self) -> None:
        try:
            if self.running:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
                self.running = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """Create an empty database `name` on the server of `server_url`; return its URL."""
    _maintenance(server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    _maintenance(server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _maintenance(server_url: str, statement: sql.Composed) -> None:
    url = make_url(server_url)
    with psycopg.connect(
        host=url.host or url.query.get("host"),
        port=url.port,
        user=url.username,
        password=url.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(statement)
