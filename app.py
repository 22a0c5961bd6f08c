"""Entry point for `flask --app app` and gunicorn (`gunicorn app:app`)."""

from massage_booking import create_app

app = create_app()
