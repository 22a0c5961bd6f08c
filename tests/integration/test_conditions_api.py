"""GET /api/v1/conditions[/{id}]: the evidence registry as insurers and apps read it."""

from __future__ import annotations

from massage_booking.domain import evidence


def _error(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_list_has_the_version_and_every_condition_with_its_plan(client):
    response = client.get("/api/v1/conditions")
    assert response.status_code == 200
    body = response.get_json()
    assert body["version"] == evidence.REGISTRY_VERSION
    assert body["reviewed"] == evidence.registry().reviewed.isoformat()
    assert "not clinical" in body["status"]
    assert set(body["verification_tags"]) == {"V", "P", "S", "M", "D"}
    ids = [c["id"] for c in body["conditions"]]
    assert ids == [c.id for c in evidence.conditions()] and len(ids) >= 12

    neck = body["conditions"][ids.index("chronic_neck_pain")]
    assert neck["icd10_codes"] == ["M54.2"]
    assert neck["plan"]["session_minutes"] == 60
    assert neck["plan"]["sessions_per_week"] == 2
    assert neck["plan"]["weeks"] == 4
    assert neck["plan"]["total_sessions"] == 8
    assert neck["plan"]["citation"] == "sherman2014"
    assert neck["plan"]["verification"] == "V"
    assert neck["minimum_effective_dose"]["session_minutes"] == 60
    assert neck["evidence"]["strength"] == "trial"
    assert neck["cancer_related"] is False
    assert neck["citations"][0] == "sherman2014"  # ids in the list; full references on the detail
    assert neck["links"] == {
        "self": "/api/v1/conditions/chronic_neck_pain",
        "page": "/evidence/chronic_neck_pain",
    }


def test_cancer_related_conditions_say_they_need_an_oncology_trained_therapist(client):
    conditions = client.get("/api/v1/conditions").get_json()["conditions"]
    cancer = [c for c in conditions if c["cancer_related"]]
    assert len(cancer) >= 6
    assert all(c["requires_oncology_trained_therapist"] for c in cancer)
    assert all(c["therapist_requirement"] == "oncology_trained" for c in cancer)


def test_detail_expands_the_citations(client):
    response = client.get("/api/v1/conditions/knee_osteoarthritis")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == "knee_osteoarthritis"
    assert body["registry"]["version"] == evidence.REGISTRY_VERSION
    assert (body["plan"]["session_minutes"], body["plan"]["sessions_per_week"], body["plan"]["weeks"]) == (
        60,
        1,
        8,
    )
    perlman = next(c for c in body["citations"] if c["id"] == body["plan"]["citation"])
    assert perlman["short"] == "Perlman 2012"
    assert perlman["year"] == 2012
    assert perlman["doi"] == "10.1371/journal.pone.0030248"
    assert perlman["url"] == "https://doi.org/10.1371/journal.pone.0030248"
    assert perlman["verification"] == "V"
    assert {"authors", "title", "source", "volume_pages", "note"} <= set(perlman)


def test_detail_marks_platform_defaults(client):
    fibro = client.get("/api/v1/conditions/fibromyalgia").get_json()
    assert (fibro["plan"]["total_sessions"], fibro["plan"]["weeks"]) == (15, 10)
    assert fibro["plan"]["field_verification"] == {"session_minutes": "D"}


def test_unknown_id_is_a_404_envelope_with_suggestions(client):
    response = client.get("/api/v1/conditions/no_such_condition")
    assert response.status_code == 404
    error = _error(response)
    assert error["code"] == "not_found"
    assert "no_such_condition" in error["message"]
    assert error["details"] == {"id": "no_such_condition", "suggestions": []}

    by_code = client.get("/api/v1/conditions/M54.2")
    assert by_code.status_code == 404
    assert _error(by_code)["details"]["suggestions"] == ["chronic_neck_pain"]


def test_q_filters_by_name_alias_or_code(client):
    def ids(q: str) -> list[str]:
        response = client.get("/api/v1/conditions", query_string={"q": q})
        assert response.status_code == 200
        return [c["id"] for c in response.get_json()["conditions"]]

    assert ids("g89.3") == ["cancer_related_pain"]
    assert ids("Knee OA") == ["knee_osteoarthritis"]
    assert ids("F41.9") == ["breast_cancer_anxiety", "preoperative_anxiety"]
    assert ids("nothing like this") == []
    assert len(ids("  ")) == len(evidence.conditions())


def test_the_api_is_public_and_read_only(client):
    assert client.get("/api/v1/conditions").status_code == 200  # no token needed
    response = client.post("/api/v1/conditions", json={})
    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"
