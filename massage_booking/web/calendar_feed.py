"""The therapist's calendar feed: the .ics that calendar apps fetch, and the buttons that make or stop it.

The feed URL carries its own secret (calendar apps cannot log in), so this module never logs the path
or the token. If rendering the feed fails, the error is logged here with the token withheld, rather
than by the app-wide handler, which would log `request.path`. Web servers' access logs (werkzeug's
development server, gunicorn with --access-logfile) are outside this code: in production keep them off
or strip /calendar/ paths.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from massage_booking.extensions import db
from massage_booking.models import Role, utcnow
from massage_booking.services import calendar_feed
from massage_booking.transactions import atomic
from massage_booking.web import bp
from massage_booking.web.session_auth import roles_required

log = logging.getLogger(__name__)

FEED_FILENAME = "massage_booking.ics"
# Calendar apps poll on their own schedule; five minutes in a private cache absorbs bursts (a phone and
# a laptop syncing together) without leaving a revoked or changed feed visible for long.
FEED_CACHE_CONTROL = "private, max-age=300"


def feed_url(token: str) -> str:
    """The absolute URL to paste into a calendar app. In production (PREFERRED_URL_SCHEME https) it is
    always https, even if a misconfigured proxy made the request look like plain http: the secret must
    not be fetched in the clear."""
    if current_app.config.get("PREFERRED_URL_SCHEME") == "https":
        return url_for("web.calendar_feed_ics", token=token, _external=True, _scheme="https")
    return url_for("web.calendar_feed_ics", token=token, _external=True)


@bp.get("/calendar/<token>.ics")
def calendar_feed_ics(token: str) -> Any:
    """The feed, for anyone holding the secret; any other token gets the ordinary 404 page.

    Reads are not audited: calendar apps fetch this every hour or so, and the feed holds no patient
    data (times, place and status only), so there is no health-data access to record. Issuing and
    revoking the secret are audited in the service."""
    try:
        with atomic():
            therapist = calendar_feed.therapist_for_feed_token(db.session, token)
            if therapist is None:
                abort(404)
            body = calendar_feed.render_feed(db.session, therapist, utcnow())
    except HTTPException:
        raise
    except Exception:
        log.exception("Calendar feed failed (GET /calendar/<withheld>.ics)")
        abort(500)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{FEED_FILENAME}"'
    response.headers["Cache-Control"] = FEED_CACHE_CONTROL
    return response


@bp.post("/me/calendar-feed")
@roles_required(Role.THERAPIST)
def issue_calendar_feed() -> Any:
    """Make a new feed address and show it once, on this page's response.

    Not a redirect with a flash message: the flash would carry the secret in the session cookie. The
    page is HTML, so it is sent with `Cache-Control: no-store` (web/security.py) and is not kept."""
    with atomic():
        token = calendar_feed.issue_feed_token(db.session, current_user, utcnow())
    return render_template("web/calendar_feed_issued.html", feed_url=feed_url(token))


@bp.post("/me/calendar-feed/revoke")
@roles_required(Role.THERAPIST)
def revoke_calendar_feed() -> Any:
    """Stop the current feed address; calendar apps subscribed to it get a 404 from then on."""
    with atomic():
        calendar_feed.revoke_feed_token(db.session, current_user, utcnow())
    flash("Your calendar feed address no longer works.", "success")
    return redirect(url_for("web.my_availability"))
