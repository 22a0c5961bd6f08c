"""The migrations in migrations/ build exactly the schema the models describe, on SQLite and PostgreSQL.

Each test starts from an EMPTY database of the lane's backend (a SQLite file in the SQLite lane, a new
PostgreSQL database in the postgres lane), so together the two lanes show that `flask db upgrade` gives the
same tables and columns on both.
"""

from __future__ import annotations

import logging

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from massage_booking import create_app
from massage_booking.extensions import db


@pytest.fixture(autouse=True)
def _keep_logging():
    """migrations/env.py runs logging.config.fileConfig; undo it so later tests' log capture still works."""
    root = logging.getLogger()
    saved = (root.level, root.handlers[:])
    names = ("alembic", "sqlalchemy", "sqlalchemy.engine", "flask_migrate")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def migrated_app(fresh_database_url):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": fresh_database_url})
    with app.app_context():
        assert _schema(db.engine) == {}, "the database should start empty"
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def _schema(engine) -> dict[str, set[str]]:
    """{table: {column names}} of the database, leaving out Alembic's own bookkeeping table."""
    inspector = inspect(engine)
    return {
        table: {column["name"] for column in inspector.get_columns(table)}
        for table in inspector.get_table_names()
        if table != "alembic_version"
    }


def _model_schema() -> dict[str, set[str]]:
    return {table.name: {column.name for column in table.columns} for table in db.metadata.sorted_tables}


def test_upgrade_creates_every_table_and_column_of_the_models(migrated_app):
    assert _schema(db.engine) == _model_schema()


def test_autogenerate_finds_no_difference_after_upgrade(migrated_app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "models and migrations differ; run `flask --app app db migrate`:\n" + "\n".join(
        map(str, differences)
    )


def test_downgrade_to_base_removes_everything_and_upgrade_rebuilds_it(migrated_app):
    downgrade(revision="base")
    assert _schema(db.engine) == {}
    upgrade()
    assert _schema(db.engine) == _model_schema()


def test_cli_upgrade_and_downgrade(fresh_database_url):
    """The commands the README and Makefile use: `flask db upgrade` and `flask db downgrade base`."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": fresh_database_url})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _schema(db.engine) == _model_schema()
    result = runner.invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _schema(db.engine) == {}
        db.engine.dispose()


def test_0010_keeps_reminders_on_for_existing_accounts_and_downgrades_cleanly(fresh_database_url):
    """Migration 0010 on a database with an account in it: the account keeps getting reminders (the
    column's server default), and going back to 0009 removes the new columns again."""
    from sqlalchemy import text

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": fresh_database_url})
    with app.app_context():
        upgrade(revision="0009_outbox")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (email, password_hash, role, display_name, is_active, created_at) "
                    "VALUES ('old@example.test', 'x', 'patient', 'Old', :yes, CURRENT_TIMESTAMP)"
                ),
                {"yes": True},
            )
        upgrade(revision="0010_notification_preferences")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT reminders_enabled FROM users")).scalar_one() in (True, 1)
        assert {"headers", "appointment_id"} <= _schema(db.engine)["outbox_messages"]
        downgrade(revision="0009_outbox")
        schema = _schema(db.engine)
        assert "reminders_enabled" not in schema["users"]
        assert not {"headers", "appointment_id"} & schema["outbox_messages"]
        db.session.remove()
        db.engine.dispose()
