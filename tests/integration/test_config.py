"""A production start refuses to run without the secrets it needs, and names what is missing.

Configuration is read from os.environ when create_app runs, so monkeypatch works for every check; one test
also starts a fresh interpreter with the variables set beforehand, as a deployment does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError
from massage_booking import create_app

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k" * 40


@pytest.fixture
def production_env(monkeypatch):
    for name in ("SECRET_KEY", "DATABASE_URL", "MASSAGE_BOOKING_ENV"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_without_secret_key_or_database_url_names_both(production_env):
    with pytest.raises(ConfigError) as error:
        create_app("production")
    assert "SECRET_KEY" in str(error.value)
    assert "DATABASE_URL" in str(error.value)


def test_production_without_secret_key_names_it(production_env, tmp_path):
    production_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    with pytest.raises(ConfigError, match="SECRET_KEY") as error:
        create_app("production")
    assert "DATABASE_URL" not in str(error.value)


def test_production_without_database_url_names_it(production_env):
    production_env.setenv("SECRET_KEY", STRONG_KEY)
    with pytest.raises(ConfigError, match="DATABASE_URL") as error:
        create_app("production")
    assert "SECRET_KEY" not in str(error.value)


def test_production_refuses_a_short_secret_key(production_env, tmp_path):
    production_env.setenv("SECRET_KEY", "too-short")
    production_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app("production")


def test_production_selected_by_environment_is_checked_too(production_env):
    production_env.setenv("MASSAGE_BOOKING_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_production_with_both_set_starts(production_env, tmp_path):
    production_env.setenv("SECRET_KEY", STRONG_KEY)
    production_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    app = create_app("production")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    assert app.config["SECRET_KEY"] == STRONG_KEY
    assert app.config["ENV_NAME"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert not app.testing


def test_production_start_uses_the_environment_values(tmp_path):
    """As deployed: the variables are set before the process starts; a postgresql:// URL gets psycopg."""
    script = (
        "import json; from massage_booking import create_app; app = create_app('production'); "
        "print(json.dumps({k: app.config[k] for k in ('SECRET_KEY', 'SQLALCHEMY_DATABASE_URI')}))"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("MASSAGE_BOOKING_ENV", "TEST_DATABASE_URL")},
        "SECRET_KEY": STRONG_KEY,
        "DATABASE_URL": "postgresql://booker@db.internal:5432/massage_booking",
        "PYTHONPATH": str(ROOT),
    }
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    config = json.loads(completed.stdout.splitlines()[-1])
    assert config["SECRET_KEY"] == STRONG_KEY
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://booker@db.internal:5432/massage_booking"


def test_unknown_environment_name_is_a_clear_error(production_env):
    with pytest.raises(ConfigError, match="staging"):
        create_app("staging")
