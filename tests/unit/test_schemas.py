"""The schema rules every request model follows (massage_booking/schemas): strict types, the client's field
paths, one message per bad field, and all bad fields at once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import pytest
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from massage_booking.domain.errors import ValidationFailed
from massage_booking.schemas.accounts import RegisterRequest, User
from massage_booking.schemas.base import (
    Day,
    Instant,
    RequestModel,
    ResponseModel,
    Says,
    Timestamp,
    fields_of,
    iso,
    need,
    read,
)
from massage_booking.schemas.errors import validation_failed


class Interval(RequestModel):
    start: Annotated[str, Says("Give the start as HH:MM.")]
    end: Annotated[str, Says("Give the end as HH:MM.")]


class Week(RequestModel, extra="forbid"):
    unknown_field = "Unknown field: send hours and note."
    hours: list[Interval]
    count: int = 0
    flag: bool = False
    starts: list[Annotated[Instant, Says("Give the time as ISO 8601 with its offset.")]] = []
    day: Annotated[Day, Says("Give a date, YYYY-MM-DD.")] | None = None


def _fields(model, body) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    failed = validation_failed(caught.value, model)
    assert isinstance(failed, ValidationFailed) and failed.status == 422
    return failed.details["fields"]


def test_paths_name_list_items_and_nested_fields_as_a_client_writes_them():
    body = {"hours": [{"start": "09:00", "end": "17:00"}, {"start": "09:00"}, {"start": 9, "end": "10:00"}]}
    assert _fields(Week, body) == {
        "hours[1].end": ["Give the end as HH:MM."],
        "hours[2].start": ["Give the start as HH:MM."],
    }


def test_numbers_and_booleans_are_never_coerced_from_text():
    fields = _fields(Week, {"hours": [], "count": "8", "flag": "true"})
    assert fields == {"count": ["Give a whole number."], "flag": ["Give true or false."]}
    assert _fields(Week, {"hours": [], "count": True}) == {"count": ["Give a whole number."]}
    assert _fields(Week, {"hours": [], "count": 8.0}) == {"count": ["Give a whole number."]}
    assert _fields(Week, {"hours": [], "flag": 1}) == {"flag": ["Give true or false."]}


def test_unknown_keys_of_a_closed_model_get_its_own_message():
    assert _fields(Week, {"hours": [], "note": "x"}) == {"note": ["Unknown field: send hours and note."]}


def test_times_need_an_offset_and_dates_the_iso_form():
    fields = _fields(Week, {"hours": [], "starts": ["2026-12-01T10:00:00", 5], "day": "12/01/2026"})
    assert set(fields) == {"starts[0]", "starts[1]", "day"}
    week = Week.model_validate({"hours": [], "starts": ["2026-12-01T10:00:00-05:00"], "day": "2026-12-01"})
    assert week.starts[0].utcoffset().total_seconds() == -5 * 3600 and week.day == date(2026, 12, 1)
    assert set(_fields(Week, {"hours": [], "starts": ["9999-12-31T10:00:00+00:00"]})) == {"starts[0]"}


def test_every_bad_field_is_reported_at_once_with_the_accounts_wording():
    fields = _fields(
        RegisterRequest, {"email": "not-an-email", "password": "short", "display_name": " ", "role": "admin"}
    )
    assert fields["password"] == ["Use at least 12 characters."]
    assert fields["display_name"] == ["Enter your name."]
    assert fields["role"] == ["Choose patient or therapist."]
    assert fields["email"][0].startswith("That e-mail address is not valid")
    assert _fields(RegisterRequest, {"password": "correct horse battery", "name": "Pat"}) == {
        "email": ["Enter your e-mail address."]
    }


def test_a_missing_name_is_reported_against_display_name():
    fields = _fields(RegisterRequest, {"email": "pat@example.org", "password": "correct horse battery"})
    assert fields == {"display_name": ["Enter your name."]}


def test_responses_keep_pythons_iso_form_for_times():
    class Stamp(ResponseModel):
        at: Timestamp

    assert Stamp(at=datetime(2026, 12, 1, 15, tzinfo=UTC)).model_dump(mode="json") == {
        "at": "2026-12-01T15:00:00+00:00"
    }
    schema = User.model_json_schema(mode="serialization")
    assert set(schema["required"]) == set(schema["properties"])  # every field is always present


def test_an_answer_reads_the_fields_it_does_not_rename_from_its_source():
    class Row:
        id, name, zip = 7, "Pat", "10001"

    class Person(ResponseModel):
        id: int
        name: str
        zip_code: str

    assert read(Person, Row(), zip_code=Row.zip) == Person(id=7, name="Pat", zip_code="10001")
    assert fields_of(Person, Row(), zip_code="x", extra=1) == {
        "id": 7,
        "name": "Pat",
        "zip_code": "x",
        "extra": 1,
    }


def test_the_iso_readers_give_none_for_what_does_not_read_and_need_names_it():
    assert iso(date.fromisoformat, "2026-12-01", (10,)) == date(2026, 12, 1)
    assert [iso(date.fromisoformat, raw, (10,)) for raw in ("2026-13-01", "2026-12-1", 20261201)] == [
        None
    ] * 3
    assert iso(date.fromisoformat, "20261201") == date(2026, 12, 1)  # any length without `sizes`
    assert need(5, "Give a number.") == 5
    with pytest.raises(PydanticCustomError, match="Give a number."):
        need(None, "Give a number.")
