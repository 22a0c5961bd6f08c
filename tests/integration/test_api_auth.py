"""The account API: registration, token exchange, bearer auth and the error envelope."""

from __future__ import annotations

from sqlalchemy import func, select

from massage_booking.models import ApiToken, AuditEvent, User

GOOD = {"email": "ann@example.org", "password": "a long enough secret", "display_name": "Ann Lee"}


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def _error(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_register_creates_a_patient_and_hides_the_password(client, db):
    response = client.post("/api/v1/auth/register", json=GOOD)
    assert response.status_code == 201
    user = response.get_json()["user"]
    assert user["email"] == "ann@example.org"
    assert user["role"] == "patient"
    assert "password" not in response.get_data(as_text=True)
    stored = db.scalar(select(User))
    assert stored.password_hash.startswith("$argon2id$")


def test_register_normalises_email_so_case_cannot_make_a_second_account(client, db):
    assert client.post("/api/v1/auth/register", json=GOOD).status_code == 201
    again = client.post("/api/v1/auth/register", json={**GOOD, "email": "ANN@Example.org"})
    assert again.status_code == 409
    assert _error(again)["details"]["fields"]["email"]
    assert _count(db, User) == 1


def test_register_rejects_bad_fields_by_name_and_stores_nothing(client, db):
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "not-an-email", "password": "short", "display_name": "", "role": "admin"},
    )
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_failed"
    assert set(error["details"]["fields"]) == {"email", "password", "display_name", "role"}
    assert _count(db, User) == 0


def test_register_with_wrong_types_is_a_422_not_a_500(client, db):
    response = client.post("/api/v1/auth/register", json={"email": 5, "password": ["x"], "display_name": {}})
    assert response.status_code == 422
    assert _count(db, User) == 0


def test_malformed_json_is_a_400_with_the_envelope(client, db):
    response = client.post("/api/v1/auth/register", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in _error(response)["message"]
    not_object = client.post("/api/v1/auth/register", json=["a", "list"])
    assert not_object.status_code == 400
    assert _count(db, User) == 0


def test_form_encoded_body_is_refused_with_415(client):
    response = client.post("/api/v1/auth/register", data={"email": "a@b.org"})
    assert response.status_code == 415
    assert _error(response)["code"] == "unsupported_media_type"


def test_token_exchange_gives_a_working_bearer_token_stored_only_as_a_digest(client, db):
    client.post("/api/v1/auth/register", json=GOOD)
    response = client.post("/api/v1/auth/token", json={"email": GOOD["email"], "password": GOOD["password"]})
    assert response.status_code == 201
    token = response.get_json()["token"]
    stored = db.scalar(select(ApiToken))
    assert token not in (stored.token_hash, stored.prefix)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json()["user"]["email"] == GOOD["email"]


def test_wrong_password_and_unknown_email_get_the_same_401(client, db):
    client.post("/api/v1/auth/register", json=GOOD)
    wrong = client.post("/api/v1/auth/token", json={"email": GOOD["email"], "password": "wrong password!!"})
    unknown = client.post(
        "/api/v1/auth/token", json={"email": "who@example.org", "password": "whatever12345"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert _error(wrong)["message"] == _error(unknown)["message"]
    assert _count(db, ApiToken) == 0


def test_wrong_or_missing_token_is_refused(client):
    assert client.get("/api/v1/me").status_code == 401
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer mb_not-a-real-token"})
    assert bad.status_code == 401
    assert _error(bad)["code"] == "unauthorized"
    assert bad.headers["WWW-Authenticate"].startswith("Bearer")
    basic = client.get("/api/v1/me", headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401


def test_unknown_api_route_and_therapist_get_json_404(client):
    assert _error(client.get("/api/v1/nothing-here"))["code"] == "not_found"
    response = client.get("/api/v1/therapists/999999")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_registration_and_token_issue_are_audited_without_secrets(client, db):
    client.post("/api/v1/auth/register", json=GOOD)
    client.post("/api/v1/auth/token", json={"email": GOOD["email"], "password": GOOD["password"]})
    actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["account.registered", "auth.token_issued"]
    for event in db.scalars(select(AuditEvent)):
        assert GOOD["password"] not in str(event.details)
