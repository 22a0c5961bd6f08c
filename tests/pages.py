"""Reading the app's HTML pages as a visitor would, and driving the care wizard through them: the helpers
the functional tests (and the integration tests of the card payment pages) share.

Builders of stored data are in tests/factories.py.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from tests.factories import monday_10

# ---------------------------------------------------------------------------------------- reading pages


def text_of(response) -> str:
    """The response's page as text: tags dropped, entities decoded, runs of spaces made one."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden and checked inputs of the form posting to `action` (what a browser would send)."""
    match = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    assert match, f"no form for {action}"
    fields = {}
    for tag in re.findall(r"<input\b[^>]*>", match.group(1)):
        name = re.search(r'\bname="([^"]*)"', tag)
        value = re.search(r'\bvalue="([^"]*)"', tag)
        kind = re.search(r'\btype="([^"]*)"', tag)
        if name and (kind is None or kind.group(1) != "radio" or " checked" in tag):
            fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return fields


def is_checked(page: str, input_id: str) -> bool:
    """Whether the input with id `input_id` is checked."""
    tag = re.search(rf'<input[^>]*\bid="{input_id}"[^>]*>', page).group(0)
    return re.search(r"\schecked[\s>]", tag) is not None


def selected(page: str, select_id: str) -> list[str]:
    """The values of the selected options of a select."""
    body = re.search(rf'<select[^>]*\bid="{select_id}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [html.unescape(v) for v in re.findall(r'<option(?=[^>]*\bselected)[^>]*\bvalue="([^"]*)"', body)]


# ---------------------------------------------------------------------------------------- search results


def result_names(page: str) -> list[str]:
    """Therapist names in result order, from the search results' headings."""
    return [
        html.unescape(n)
        for n in re.findall(r'<h3 class="card-title"[^>]*>.*?<a href="[^"]+">([^<]+)</a>', page)
    ]


def summary(page: str) -> str:
    """The search results' role=status summary line, spaces collapsed."""
    match = re.search(r'<p class="results-summary" role="status">(.*?)</p>', page, re.S)
    assert match, "no role=status summary"
    return " ".join(html.unescape(match.group(1)).split())


# ------------------------------------------------------------------------------------------ care wizard

# A neck-pain intake as step 1's form posts it (no cancer history).
NECK_FORM = {"condition": "chronic_neck_pain", "cancer_history": "no", "treatment_phase": ""}


def csrf(auth) -> str:
    """A CSRF token for the logged-in client's next form post."""
    return auth.csrf_token("/care/start")


def start_intake(client, auth, answers: dict, **extra) -> str:
    """Step 1; returns the plan URL it redirects to."""
    data = {**answers, "csrf_token": csrf(auth), **extra}
    response = client.post("/care/start", data=data)
    assert response.status_code == 302, text_of(response)
    return response.headers["Location"]


def intake_id_of(url: str) -> int:
    """The intake id in a wizard URL's `intake` parameter."""
    return int(parse_qs(urlsplit(url).query)["intake"][0])


def book(client, auth, intake_id: int, therapist_id: int, first: datetime | None = None):
    """Open the review for a course from `first` (default `monday_10()`) and post its booking form as the
    browser would; returns the response to the post."""
    review = client.get(
        "/care/review",
        query_string={
            "intake": intake_id,
            "therapist": therapist_id,
            "first_start": (first or monday_10()).isoformat(),
        },
    )
    assert review.status_code == 200, text_of(review)
    fields = form_fields(review.get_data(as_text=True), "/care/book")
    fields["csrf_token"] = csrf(auth)
    return client.post("/care/book", data=fields)
