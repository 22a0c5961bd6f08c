"""What the browser tests share besides fixtures (those are in tests/e2e/conftest.py): the booking server's
patient login, and screenshots to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "artifacts"  # git-ignored
# The patient `booking_server` registers.
PATIENT = "pat.kim@example.org"
PASSWORD = "a long enough password"


def shot(page: Page, name: str) -> None:
    """A full-page screenshot of the booking flow's step `name`: tests/artifacts/booking_flow_<name>.png."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS_DIR / f"booking_flow_{name}.png", full_page=True)
