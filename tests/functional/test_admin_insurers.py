"""An administrator makes insurer accounts of a payer and their API tokens: the token is shown once, stored
only as a digest, works against POST /api/v1/eligibility, and stops working (401) once revoked. The same
from the command line: `flask create-insurer` and `flask issue-insurer-token`."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from massage_booking.models import ApiToken, AuditEvent, InsurancePlan, Payer, PlanType, Role, User
from massage_booking.services.passwords import hash_password, verify_password

PASSWORD = "a-long-insurer-password"


@pytest.fixture
def payers(db):
    acme = Payer(code="ACME", name="Acme Health")
    acme.plans.append(InsurancePlan(name="Choice PPO", plan_type=PlanType.PPO))
    other = Payer(code="OTHER", name="Other Mutual")
    other.plans.append(InsurancePlan(name="Basic HMO", plan_type=PlanType.HMO))
    db.add_all([acme, other])
    db.commit()
    return acme, other


@pytest.fixture
def admin(auth):
    user = auth.create_user(role="admin", email="admin@example.org")
    auth.login("admin@example.org")
    return user


def _create(client, auth, **fields):
    data = {
        "payer_id": "",
        "email": "",
        "display_name": "",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "csrf_token": auth.csrf_token("/admin/insurers"),
    }
    data.update(fields)
    return client.post("/admin/insurers", data=data)


def _insurer(db, payer: Payer, email: str = "claims@acme.example") -> User:
    user = User(
        email=email,
        password_hash=hash_password(PASSWORD),
        role=Role.INSURER,
        display_name="Claims desk",
        payer_id=payer.id,
    )
    db.add(user)
    db.commit()
    return user


def _issue(client, auth, user_id: int, name: str = "claims gateway", days: str = "90"):
    data = {
        "name": name,
        "days": days,
        "csrf_token": auth.csrf_token(f"/admin/insurers/{user_id}/tokens/new"),
    }
    return client.post(f"/admin/insurers/{user_id}/tokens", data=data)


def _token_on(page: str) -> str:
    found = re.search(r'id="api-token" name="api_token" value="(mb_[^"]+)"', page)
    assert found, "no token on the page"
    return found.group(1)


def _audited(db, action: str) -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _eligibility(client, token: str, plan_id: int):
    body = {
        "plan_id": plan_id,
        "icd10_code": "M54.2",
        "therapist_id": 999999,
        "session_minutes": 60,
        "sessions": 8,
        "service_date": (date.today() + timedelta(days=7)).isoformat(),
    }
    return client.post("/api/v1/eligibility", json=body, headers={"Authorization": f"Bearer {token}"})


# -------------------------------------------------------------------------------------------- accounts


def test_the_page_lists_payers_with_their_accounts_and_the_form(client, db, admin, payers):
    _insurer(db, payers[0])
    page = client.get("/admin/insurers").get_data(as_text=True)

    assert "Acme Health" in page and "Other Mutual" in page
    assert "claims@acme.example" in page and "No active API tokens." in page
    assert "No insurer accounts yet." in page  # Other Mutual
    assert 'action="/admin/insurers"' in page and '<label for="payer_id">Payer</label>' in page
    assert 'aria-current="page">Insurers</a>' in page
    preselected = client.get(f"/admin/insurers?payer={payers[1].id}").get_data(as_text=True)
    assert f'<option selected value="{payers[1].id}">Other Mutual (OTHER)</option>' in preselected


def test_an_admin_creates_an_insurer_account_of_a_payer(client, auth, db, admin, payers):
    response = _create(
        client, auth, payer_id=str(payers[0].id), email="Claims@Acme.example", display_name="Claims desk"
    )

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/insurers#insurer-")
    user = db.scalar(select(User).where(User.email == "claims@acme.example"))
    assert (user.role, user.payer_id, user.display_name) == (Role.INSURER, payers[0].id, "Claims desk")
    assert user.password_hash.startswith("$argon2id$") and verify_password(user.password_hash, PASSWORD)
    [event] = _audited(db, "insurer.account_created")
    assert (event.actor_id, event.subject_id, event.details) == (
        admin.id,
        str(user.id),
        {"payer_id": payers[0].id},
    )
    page = client.get("/admin/insurers").get_data(as_text=True)
    assert "Created claims@acme.example, an insurer account of Acme Health." in page

    # The new account can log in and use the portal.
    auth.logout()
    auth.login("claims@acme.example", PASSWORD)
    assert client.get("/insurer").status_code == 200


def test_bad_account_fields_are_named_at_once_and_nothing_is_created(client, auth, db, admin, payers):
    response = _create(client, auth, email="not-an-address", password="short", confirm="other")
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    for name in ("payer_id", "email", "display_name", "password"):
        assert f'id="{name}-error"' in page, name
    assert db.scalar(select(func.count()).select_from(User).where(User.role == Role.INSURER)) == 0

    mismatch = _create(
        client, auth, payer_id=str(payers[0].id), email="a@acme.example", display_name="A", confirm="x" * 20
    )
    assert mismatch.status_code == 422
    assert "The two passwords do not match." in mismatch.get_data(as_text=True)


def test_a_taken_email_is_a_409_beside_the_field(client, auth, db, admin, payers):
    _insurer(db, payers[0])
    response = _create(
        client, auth, payer_id=str(payers[1].id), email="claims@acme.example", display_name="Other desk"
    )

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page and "already exists" in page
    assert db.scalar(select(func.count()).select_from(User).where(User.role == Role.INSURER)) == 1


# ---------------------------------------------------------------------------------------------- tokens


def test_a_token_is_shown_once_stored_as_a_digest_and_works_against_the_api(client, auth, db, admin, payers):
    user = _insurer(db, payers[0])
    form = client.get(f"/admin/insurers/{user.id}/tokens/new").get_data(as_text=True)
    assert "claims@acme.example" in form and "Acme Health" in form and "90 days" in form

    response = _issue(client, auth, user.id, days="30")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert "Copy it now: this is the only time it is shown." in page
    token = _token_on(page)
    record = db.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token.startswith(record.prefix) and record.name == "claims gateway"
    assert timedelta(days=29, hours=23) < record.expires_at - record.created_at <= timedelta(days=30)
    [event] = _audited(db, "insurer.token_issued")
    assert (event.actor_id, event.subject_id) == (admin.id, str(record.id))
    assert token not in str(event.details)

    # The overview lists it by prefix, never the secret.
    overview = client.get("/admin/insurers").get_data(as_text=True)
    assert f"{record.prefix}…" in overview and token not in overview and "Never" in overview

    # It works against the API, for the account's payer.
    answer = _eligibility(client, token, payers[0].plans[0].id)
    assert answer.status_code == 404  # authenticated; the therapist does not exist
    assert "no therapist" in answer.get_json()["error"]["message"].lower()
    assert _eligibility(client, token, payers[1].plans[0].id).status_code == 404  # another payer's plan
    db.expire_all()
    assert db.get(ApiToken, record.id).last_used_at is not None
    assert "Never" not in client.get("/admin/insurers").get_data(as_text=True).split("Active API tokens")[1]


def test_revoking_asks_first_then_the_token_gets_401(client, auth, db, admin, payers):
    user = _insurer(db, payers[0])
    token = _token_on(_issue(client, auth, user.id).get_data(as_text=True))
    record = db.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert _eligibility(client, token, payers[0].plans[0].id).status_code != 401

    confirm = client.get(f"/admin/insurers/tokens/{record.id}/revoke").get_data(as_text=True)
    assert "Revoke this API token?" in confirm and "claims gateway" in confirm and record.prefix in confirm
    assert f'action="/admin/insurers/tokens/{record.id}/revoke"' in confirm
    assert db.get(ApiToken, record.id).revoked_at is None  # asking changes nothing

    response = client.post(
        f"/admin/insurers/tokens/{record.id}/revoke", data={"csrf_token": auth.csrf_token("/admin/insurers")}
    )

    assert response.status_code == 302
    db.expire_all()
    assert db.get(ApiToken, record.id).revoked_at is not None
    assert _eligibility(client, token, payers[0].plans[0].id).status_code == 401
    [event] = _audited(db, "insurer.token_revoked")
    assert (event.actor_id, event.subject_id) == (admin.id, str(record.id))
    page = client.get("/admin/insurers").get_data(as_text=True)
    assert "Revoked claims gateway" in page and f"<code>{record.prefix}…</code>" not in page
    assert "No active API tokens." in page

    again = client.post(
        f"/admin/insurers/tokens/{record.id}/revoke", data={"csrf_token": auth.csrf_token("/admin/insurers")}
    )
    assert again.status_code == 302
    assert "was already revoked" in client.get("/admin/insurers").get_data(as_text=True)
    assert len(_audited(db, "insurer.token_revoked")) == 1


def test_bad_token_fields_are_422_and_issue_nothing(client, auth, db, admin, payers):
    user = _insurer(db, payers[0])

    response = _issue(client, auth, user.id, name="  ", days="999")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="name-error"' in page and 'id="days-error"' in page
    assert db.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_unknown_accounts_and_tokens_are_404(client, auth, admin, payers):
    assert client.get("/admin/insurers/999/tokens/new").status_code == 404
    assert _issue(client, auth, 999).status_code == 404
    assert client.get("/admin/insurers/tokens/999/revoke").status_code == 404
    revoke = client.post("/admin/insurers/tokens/999/revoke", data={"csrf_token": auth.csrf_token("/")})
    assert revoke.status_code == 404


def test_a_patients_token_cannot_be_revoked_here(client, auth, db, admin, payers):
    patient = auth.create_user("patient")
    auth.api_token(patient.email)
    record = db.scalar(select(ApiToken).where(ApiToken.user_id == patient.id))
    assert client.get(f"/admin/insurers/tokens/{record.id}/revoke").status_code == 404
    assert client.get(f"/admin/insurers/{patient.id}/tokens/new").status_code == 404


@pytest.mark.parametrize("role", ["patient", "therapist", "insurer"])
def test_only_admins_manage_insurers(client, auth, db, payers, role):
    insurer = _insurer(db, payers[0], "existing@acme.example")
    user = auth.create_user(role)
    auth.login(user.email)
    csrf = auth.csrf_token("/")

    assert client.get("/admin/insurers").status_code == 403
    assert client.get(f"/admin/insurers/{insurer.id}/tokens/new").status_code == 403
    created = client.post(
        "/admin/insurers",
        data={"csrf_token": csrf, "payer_id": str(payers[0].id), "email": "x@y.example", "display_name": "X"},
    )
    assert created.status_code == 403
    issued = client.post(
        f"/admin/insurers/{insurer.id}/tokens", data={"csrf_token": csrf, "name": "n", "days": "30"}
    )
    assert issued.status_code == 403
    assert db.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_forms_without_a_csrf_token_are_refused(client, auth, db, admin, payers):
    user = _insurer(db, payers[0])
    assert client.post("/admin/insurers", data={"payer_id": str(payers[0].id)}).status_code == 400
    assert (
        client.post(f"/admin/insurers/{user.id}/tokens", data={"name": "x", "days": "30"}).status_code == 400
    )
    assert db.scalar(select(func.count()).select_from(ApiToken)) == 0


# ------------------------------------------------------------------------------------------------- CLI


def test_cli_create_insurer_asks_twice_and_audits(runner, db, payers):
    result = runner.invoke(
        args=["create-insurer", "--payer", "acme", "--email", "Desk@Acme.example", "--name", "Claims desk"],
        input=f"short\n{PASSWORD}\n{PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert "Use at least 12 characters." in result.output and PASSWORD not in result.output
    assert "Created insurer desk@acme.example for Acme Health." in result.output
    user = db.scalar(select(User).where(User.email == "desk@acme.example"))
    assert (user.role, user.payer_id) == (Role.INSURER, payers[0].id)
    [event] = _audited(db, "insurer.account_created")
    assert event.actor_id is None and event.subject_id == str(user.id)


def test_cli_create_insurer_explains_bad_input_without_a_traceback(runner, db, payers):
    unknown = runner.invoke(
        args=["create-insurer", "--payer", "NOPE", "--email", "a@b.example", "--name", "A"]
    )
    assert unknown.exit_code == 2 and "No payer has the code 'NOPE' (known: ACME, OTHER)" in unknown.output
    _insurer(db, payers[0], "taken@acme.example")
    taken = runner.invoke(
        args=["create-insurer", "--payer", "ACME", "--email", "taken@acme.example", "--name", "A"]
    )
    assert taken.exit_code == 1 and "already exists" in taken.output
    for result in (unknown, taken):
        assert "Traceback" not in result.output


def test_cli_issue_insurer_token_prints_it_once_and_it_works(runner, client, db, payers):
    user = _insurer(db, payers[0])

    result = runner.invoke(
        args=["issue-insurer-token", "--email", user.email, "--name", "claims gateway", "--days", "7"]
    )

    assert result.exit_code == 0, result.output
    [token] = re.findall(r"^mb_\S+$", result.stdout, re.M)
    record = db.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest() and record.name == "claims gateway"
    assert timedelta(days=6, hours=23) < record.expires_at - record.created_at <= timedelta(days=7)
    assert _eligibility(client, token, payers[0].plans[0].id).status_code == 404  # authenticated
    assert len(_audited(db, "insurer.token_issued")) == 1

    patient_only = runner.invoke(args=["issue-insurer-token", "--email", "nobody@acme.example"])
    assert patient_only.exit_code == 2 and "There is no account" in patient_only.output
    too_long = runner.invoke(args=["issue-insurer-token", "--email", user.email, "--days", "400"])
    assert too_long.exit_code == 2 and "Traceback" not in too_long.output
