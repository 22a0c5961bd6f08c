"""Engine set-up that differs by backend.

SQLite needs foreign keys switched on per connection, WAL so readers do not block the writer, and a
busy timeout so that concurrent writers wait instead of failing (DESIGN.md, "Known traps").
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, event

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000


def prepare(app: Flask) -> None:
    """Create the directory of a file-backed SQLite database before the engine tries to open it."""
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # Flask-SQLAlchemy already gives in-memory SQLite a StaticPool, so tests share one database.


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()
