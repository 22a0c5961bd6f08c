"""Security headers on every response.

The Content-Security-Policy allows only our own scripts and styles; the map tile server's origin is
added to img-src from MAP_TILE_URL, not by loosening the policy for everything.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response


def _tile_origins(tile_url: str) -> list[str]:
    """The origin map tiles load from, e.g. https://tile.openstreetmap.org, or nothing without tiles."""
    parts = urlsplit(tile_url)
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme in ("http", "https") and parts.netloc else []


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        img_sources = " ".join(["'self'", "data:", *_tile_origins(app.config.get("MAP_TILE_URL", ""))])
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; "
            f"img-src {img_sources}; "
            "style-src 'self'; script-src 'self'; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        if response.mimetype == "text/html":
            # Pages can show health data after login: never keep them in shared caches.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
