"""The evidence registry: conditions -> the session plan a trial or guideline supports, with citations.

The facts live in `evidence.json` beside this module, a versioned data file that clinicians can review
without reading code; this module loads it once, validates every entry (so a typo in a citation id or an
ICD-10 code stops the app at start-up instead of reaching a patient or an insurer), and answers lookups.
Pure Python: the search filter, course planning and eligibility rules all read it, and so can a test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

DATA_FILE = "evidence.json"

# How each claim was checked (explained in the data file's "verification_tags").
TAGS = ("V", "P", "S", "M", "D")
EVIDENCE_STRENGTHS = ("guideline", "trial", "emerging")
EVIDENCE_GRADES = (
    "guideline_recommended",
    "guideline_weak",
    "guideline_insufficient",
    "systematic_review_positive",
    "rct_supported",
    "emerging",
)
LICENSED = "licensed"
ONCOLOGY_TRAINED = "oncology_trained"
THERAPIST_REQUIREMENTS = (LICENSED, ONCOLOGY_TRAINED)
# What an intake answer does to a booking: match only oncology-trained therapists, hold the first session
# until a clinician's clearance is on file, or do not book now at all.
PRECAUTION_GATES = (ONCOLOGY_TRAINED, "physician_clearance", "defer")
DOSE_FIELDS = ("session_minutes", "sessions_per_week", "weeks", "total_sessions")
MIN_CONDITIONS = 12

# ICD-10-CM: a letter, two characters, then optionally a dot and one to four more (M54.2, T45.1X5A, F32.A).
ICD10_CODE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
_ICD10_UNDOTTED = re.compile(r"^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$")
_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


class RegistryError(ValueError):
    """The data file breaks a rule; the message lists every problem, not just the first."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{DATA_FILE} has {len(problems)} problem(s):\n  " + "\n  ".join(problems))
        self.problems = problems


# ---------------------------------------------------------------------------------------- value objects


@dataclass(frozen=True)
class Citation:
    id: str
    authors: str
    year: int | None
    title: str
    source: str
    volume_pages: str | None
    doi: str | None
    url: str | None
    tag: str
    note: str | None
    short_label: str | None = (
        None  # for authors that are organisations, or two papers by one author in a year
    )

    @property
    def link(self) -> str | None:
        """Where a reader can check the claim: the given URL, else the DOI resolver."""
        if self.url:
            return self.url
        return f"https://doi.org/{self.doi}" if self.doi else None

    @property
    def short(self) -> str:
        """'Sherman 2014': how a warning or a badge names the study."""
        if self.short_label:
            return self.short_label
        first = self.authors.split(",")[0].split(";")[0].strip()
        surname = re.sub(r"\s+[A-Z]{1,3}$", "", first)  # drop Vancouver-style initials ("Sherman KJ")
        return f"{surname} {self.year}" if self.year else surname

    @property
    def reference(self) -> str:
        """The full reference in one line, Vancouver-like."""
        parts = [f"{self.authors.rstrip('.')}.", f"{self.title}.", f"{self.source.rstrip('.')}."]
        details = ";".join(str(part) for part in (self.year, self.volume_pages) if part)
        if details:
            parts.append(f"{details}.")
        if self.doi:
            parts.append(f"doi:{self.doi}")
        return " ".join(parts)


@dataclass(frozen=True)
class Protocol:
    """Another dose a trial supports for the same condition (e.g. three sessions a week instead of two)."""

    label: str
    session_minutes: int
    sessions_per_week: float | None
    weeks: int | None
    total_sessions: int
    citation: Citation
    tag: str


@dataclass(frozen=True)
class MinimumDose:
    """The least a trial found to work. Numbers are inclusive floors; None where the evidence gives none.

    Courses below it are allowed with a warning that cites `citation`, never refused: the patient and
    their clinician decide, the registry only says what was studied.
    """

    text: str
    session_minutes: int | None
    sessions_per_week: float | None
    weeks: int | None
    total_sessions: int | None
    citation: Citation | None
    tag: str

    @property
    def established(self) -> bool:
        return any(getattr(self, name) is not None for name in DOSE_FIELDS)

    def shortfalls(
        self,
        *,
        session_minutes: int | None = None,
        sessions_per_week: float | None = None,
        weeks: int | None = None,
        total_sessions: int | None = None,
    ) -> tuple[str, ...]:
        """The dose fields of a proposed course below this floor; fields passed as None are not judged."""
        proposed = {
            "session_minutes": session_minutes,
            "sessions_per_week": sessions_per_week,
            "weeks": weeks,
            "total_sessions": total_sessions,
        }
        return tuple(
            name
            for name in DOSE_FIELDS
            if (floor := getattr(self, name)) is not None
            and (value := proposed[name]) is not None
            and value < floor
        )


@dataclass(frozen=True)
class CodeUse:
    """An ICD-10-CM code that goes with the condition's own codes, and when to use it."""

    code: str
    use: str


@dataclass(frozen=True)
class Condition:
    id: str
    name: str
    aliases: tuple[str, ...]
    icd10_codes: tuple[str, ...]
    icd10_secondary: tuple[CodeUse, ...]
    coding_note: str | None
    cancer_related: bool
    therapist_requirement: str
    therapist_note: str
    evidence_strength: str
    evidence_grade: str
    evidence_summary: str
    guideline_status: str
    # The default plan: what a course for this condition is laid out as unless the patient changes it.
    session_minutes: int
    sessions_per_week: float | None  # None: no fixed cadence (e.g. sessions timed with chemotherapy visits)
    weeks: int | None
    total_sessions: int
    plan_citation: Citation
    plan_tag: str
    plan_field_tags: tuple[tuple[str, str], ...]
    plan_note: str
    alternatives: tuple[Protocol, ...]
    minimum: MinimumDose
    precautions: tuple[str, ...]
    citations: tuple[Citation, ...]
    tag: str

    @property
    def requires_oncology_trained_therapist(self) -> bool:
        return self.therapist_requirement == ONCOLOGY_TRAINED

    @property
    def minimum_effective_dose(self) -> str:
        return self.minimum.text

    def plan_tag_for(self, field: str) -> str:
        """The verification tag of one plan number: a default [D] or unconfirmed [M] length is marked."""
        return dict(self.plan_field_tags).get(field, self.plan_tag)


@dataclass(frozen=True)
class Precaution:
    """One of the oncology precaution domains intake asks about, and what it does to a booking."""

    id: str
    name: str
    gate: str
    adaptation: str
    clearance_when: str | None
    defer_when: str | None
    citations: tuple[Citation, ...]
    tag: str


@dataclass(frozen=True)
class Registry:
    version: str
    reviewed: date
    status: str
    source: str
    verification_tags: Mapping[str, str]
    evidence_strengths: Mapping[str, str]
    conditions: tuple[Condition, ...]
    precautions: tuple[Precaution, ...]
    citations: Mapping[str, Citation]


# ------------------------------------------------------------------------------------------ lookups


@cache
def registry() -> Registry:
    """The packaged registry, read and validated once per process."""
    text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_registry(json.loads(text))


def conditions() -> list[Condition]:
    return list(registry().conditions)


def condition(condition_id: str) -> Condition | None:
    return _index().by_id.get(condition_id)


def find(term: str) -> Condition | None:
    """The one condition `term` names: its id, name or an alias (any case, '-', '_' or spaces), or an
    ICD-10-CM code with or without the dot. None when nothing matches, or when a code is shared by more
    than one condition (F41.9): use `matches` to offer the choices."""
    found = matches(term)
    return found[0] if len(found) == 1 else None


def matches(term: str) -> list[Condition]:
    """Every condition `term` could mean, in registry order."""
    index = _index()
    ids = index.by_text.get(_text_key(term), [])
    code = _code_key(term)
    if code is not None:
        ids = [*ids, *index.by_code.get(code, [])]
    wanted = set(ids)
    return [c for c in registry().conditions if c.id in wanted]


def citation(citation_id: str) -> Citation | None:
    return registry().citations.get(citation_id)


def precautions() -> list[Precaution]:
    return list(registry().precautions)


def precaution(precaution_id: str) -> Precaution | None:
    return next((p for p in registry().precautions if p.id == precaution_id), None)


def normalize_icd10(code: str) -> str | None:
    """'m542', ' M54.2 ' -> 'M542' (the comparison key); None if it cannot be an ICD-10-CM code."""
    return _code_key(code)


@dataclass(frozen=True)
class _Index:
    by_id: Mapping[str, Condition]
    by_text: Mapping[str, list[str]]
    by_code: Mapping[str, list[str]]


@cache
def _index() -> _Index:
    by_text: dict[str, list[str]] = {}
    by_code: dict[str, list[str]] = {}
    for c in registry().conditions:
        for key in {_text_key(t) for t in (c.id, c.name, *c.aliases)}:
            by_text.setdefault(key, []).append(c.id)
        for code in c.icd10_codes:
            by_code.setdefault(code.replace(".", ""), []).append(c.id)
    return _Index({c.id: c for c in registry().conditions}, by_text, by_code)


def _text_key(term: str) -> str:
    return " ".join(re.sub(r"[-_]", " ", term).casefold().split())


def _code_key(term: str) -> str | None:
    key = term.strip().upper()
    if ICD10_CODE.match(key):
        return key.replace(".", "")
    return key if _ICD10_UNDOTTED.match(key) else None


# ----------------------------------------------------------------------------------- parse + validate


class _Checker:
    """Reads fields from the parsed JSON, recording every problem with where it was found."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def text(self, obj: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
        value = obj.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"'{key}' must be a non-empty string")
            return ""
        return value

    def integer(self, obj: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
        value = obj.get(key)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            self.fail(where, f"'{key}' must be a positive integer")
            return 1
        return value

    def number(self, obj: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
        value = obj.get(key)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            self.fail(where, f"'{key}' must be a positive number")
            return 1
        return value

    def one_of(self, obj: Mapping[str, Any], key: str, allowed: tuple[str, ...], where: str) -> Any:
        value = obj.get(key)
        if value not in allowed:
            self.fail(where, f"'{key}' is {value!r}; expected one of {', '.join(allowed)}")
        return value

    def items(self, obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
        value = obj.get(key)
        if not isinstance(value, list):
            self.fail(where, f"'{key}' must be a list")
            return []
        return value

    def texts(self, obj: Mapping[str, Any], key: str, where: str, *, min_items: int = 0) -> tuple[str, ...]:
        values = self.items(obj, key, where)
        if len(values) < min_items:
            self.fail(where, f"'{key}' needs at least {min_items} item(s)")
        if not all(isinstance(v, str) and v.strip() for v in values):
            self.fail(where, f"'{key}' must hold non-empty strings")
            return ()
        return tuple(values)

    def code(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not ICD10_CODE.match(value):
            self.fail(where, f"{value!r} is not a well-formed ICD-10-CM code")
            return ""
        return value


def parse_registry(data: Any) -> Registry:
    """Build the registry from parsed JSON, or raise RegistryError naming every problem found."""
    check = _Checker()
    if not isinstance(data, dict):
        raise RegistryError(["the file must hold a JSON object"])

    version, reviewed = _parse_header(check, data)
    tags, strengths = _parse_glossaries(check, data)
    cited = _parse_citations(check, check.items(data, "citations", "top level"))
    resolve = _resolver(check, cited)
    parsed = _parse_conditions(check, data, resolve)
    precautions_ = _parse_precautions(check, data, resolve)

    if check.problems:
        raise RegistryError(check.problems)
    return Registry(
        version=version,
        reviewed=reviewed,
        status=check.text(data, "status", "top level"),
        source=check.text(data, "source", "top level"),
        verification_tags=MappingProxyType(dict(tags)),
        evidence_strengths=MappingProxyType(dict(strengths)),
        conditions=parsed,
        precautions=precautions_,
        citations=MappingProxyType(cited),
    )


def _parse_header(check: _Checker, data: Mapping[str, Any]) -> tuple[str, date]:
    """The registry's version and review date; date.min stands in for a bad date until RegistryError."""
    version = check.text(data, "version", "top level")
    if version and not _VERSION.match(version):
        check.fail("top level", f"'version' {version!r} must look like 1.2.3")
    reviewed_text = check.text(data, "reviewed", "top level")
    try:
        reviewed = date.fromisoformat(reviewed_text)
    except ValueError:
        check.fail("top level", f"'reviewed' {reviewed_text!r} must be an ISO date")
        reviewed = date.min
    return version, reviewed


def _parse_glossaries(check: _Checker, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The explanations of the verification tags and of the evidence strengths, which the API serves with
    the entries: one for every value an entry may carry, so that every value it shows is explained."""
    tags = data.get("verification_tags")
    if not isinstance(tags, dict) or tuple(tags) != TAGS:
        check.fail("top level", f"'verification_tags' must explain exactly {', '.join(TAGS)}, in that order")
        tags = {}
    strengths = data.get("evidence_strengths")
    if not isinstance(strengths, dict) or set(strengths) != set(EVIDENCE_STRENGTHS):
        check.fail("top level", f"'evidence_strengths' must explain exactly {', '.join(EVIDENCE_STRENGTHS)}")
        strengths = {}
    return tags, strengths


Resolver = Callable[..., tuple[Citation, ...]]


def _resolver(check: _Checker, cited: Mapping[str, Citation]) -> Resolver:
    """Turns an entry's list of citation ids into citations, reporting ids that are missing, unknown or
    repeated; conditions and precautions cite alike."""

    def resolve(ids: Any, where: str, *, min_items: int = 1) -> tuple[Citation, ...]:
        if not isinstance(ids, list) or len(ids) < min_items:
            check.fail(where, f"'citations' must list at least {min_items} citation id(s)")
            return ()
        unknown = [i for i in ids if i not in cited]
        if unknown:
            check.fail(where, f"cites unknown id(s) {', '.join(map(str, unknown))}")
        if len(set(map(str, ids))) != len(ids):
            check.fail(where, "cites the same id twice")
        return tuple(cited[i] for i in ids if i in cited)

    return resolve


def _parse_conditions(check: _Checker, data: Mapping[str, Any], resolve: Resolver) -> tuple[Condition, ...]:
    raw_conditions = check.items(data, "conditions", "top level")
    if len(raw_conditions) < MIN_CONDITIONS:
        check.fail("top level", f"needs at least {MIN_CONDITIONS} conditions, has {len(raw_conditions)}")
    parsed = tuple(_parse_condition(check, raw, n, resolve) for n, raw in enumerate(raw_conditions))
    _check_unique_names(check, parsed)
    return parsed


def _parse_precautions(check: _Checker, data: Mapping[str, Any], resolve: Resolver) -> tuple[Precaution, ...]:
    precautions_ = tuple(
        _parse_precaution(check, raw, n, resolve)
        for n, raw in enumerate(check.items(data, "intake_precautions", "top level"))
    )
    if len({p.id for p in precautions_}) != len(precautions_):
        check.fail("intake_precautions", "ids must be unique")
    return precautions_


def _parse_citations(check: _Checker, raw_citations: list[Any]) -> dict[str, Citation]:
    cited: dict[str, Citation] = {}
    for n, raw in enumerate(raw_citations):
        where = f"citations[{n}]"
        if not isinstance(raw, dict):
            check.fail(where, "must be an object")
            continue
        cid = check.text(raw, "id", where)
        where = f"citation {cid or n}"
        if cid and not _SLUG.match(cid):
            check.fail(where, "the id must be lower_snake_case")
        if cid in cited:
            check.fail(where, "the id is used twice")
        year = raw.get("year")
        if year is not None and (
            isinstance(year, bool) or not isinstance(year, int) or not 1900 < year < 2100
        ):
            check.fail(where, f"'year' {year!r} must be a plausible year or null")
        doi = check.text(raw, "doi", where, optional=True)
        if doi and not doi.startswith("10."):
            check.fail(where, f"'doi' {doi!r} must start with 10.")
        url = check.text(raw, "url", where, optional=True)
        if url and not url.startswith("https://"):
            check.fail(where, f"'url' {url!r} must be https")
        cited[cid] = Citation(
            id=cid,
            authors=check.text(raw, "authors", where),
            year=year,
            title=check.text(raw, "title", where),
            source=check.text(raw, "source", where),
            volume_pages=check.text(raw, "volume_pages", where, optional=True),
            doi=doi,
            url=url,
            tag=check.one_of(raw, "tag", TAGS, where),
            note=check.text(raw, "note", where, optional=True),
            short_label=check.text(raw, "short", where, optional=True),
        )
    return cited


def _parse_condition(check: _Checker, raw: Any, n: int, resolve: Resolver) -> Condition:
    where = f"conditions[{n}]"
    if not isinstance(raw, dict):
        check.fail(where, "must be an object")
        raw = {}
    cid = check.text(raw, "id", where)
    where = f"condition {cid or n}"
    if cid and not _SLUG.match(cid):
        check.fail(where, "the id must be lower_snake_case")

    codes, secondary = _parse_codes(check, raw, where)
    cancer_related, requirement = _parse_therapist_requirement(check, raw, where)
    citations_ = resolve(raw.get("citations"), where)

    plan = raw.get("plan") if isinstance(raw.get("plan"), dict) else {}
    at = f"{where} plan"
    dose = _dose(check, plan, at)
    plan_citation = _own_citation(check, citations_, plan.get("citation"), at)
    field_tags = _parse_field_tags(check, plan, at)
    alternatives = _parse_alternatives(check, raw, where, citations_)
    minimum = _parse_minimum(check, raw, where, citations_)

    return Condition(
        id=cid,
        name=check.text(raw, "name", where),
        aliases=check.texts(raw, "aliases", where),
        icd10_codes=codes,
        icd10_secondary=secondary,
        coding_note=check.text(raw, "coding_note", where, optional=True),
        cancer_related=cancer_related,
        therapist_requirement=requirement,
        therapist_note=check.text(raw, "therapist_note", where),
        evidence_strength=check.one_of(raw, "evidence_strength", EVIDENCE_STRENGTHS, where),
        evidence_grade=check.one_of(raw, "evidence_grade", EVIDENCE_GRADES, where),
        evidence_summary=check.text(raw, "evidence_summary", where),
        guideline_status=check.text(raw, "guideline_status", where),
        **dose,
        plan_citation=plan_citation,  # type: ignore[arg-type]  # None only when RegistryError is raised
        plan_tag=check.one_of(plan, "tag", TAGS, f"{where} plan"),
        plan_field_tags=tuple(sorted(field_tags.items())),
        plan_note=check.text(plan, "note", f"{where} plan"),
        alternatives=alternatives,
        minimum=minimum,
        precautions=check.texts(raw, "precautions", where, min_items=1),
        citations=citations_,
        tag=check.one_of(raw, "tag", TAGS, where),
    )


def _parse_codes(
    check: _Checker, raw: Mapping[str, Any], where: str
) -> tuple[tuple[str, ...], tuple[CodeUse, ...]]:
    """The condition's ICD-10-CM codes (at least one: a payer matches claims by code) and the secondary
    codes, each with the use that calls for it."""
    codes = tuple(check.code(c, where) for c in check.items(raw, "icd10_codes", where))
    if not codes:
        check.fail(where, "needs at least one ICD-10-CM code")
    secondary = []
    for item in check.items(raw, "icd10_secondary", where):
        item = item if isinstance(item, dict) else {}
        secondary.append(CodeUse(check.code(item.get("code"), where), check.text(item, "use", where)))
    return codes, tuple(secondary)


def _parse_therapist_requirement(check: _Checker, raw: Mapping[str, Any], where: str) -> tuple[bool, str]:
    """(cancer_related, therapist_requirement): the search and the eligibility rules both rely on a
    cancer-related condition asking for an oncology-trained therapist, so the registry must say so."""
    cancer_related = raw.get("cancer_related")
    if not isinstance(cancer_related, bool):
        check.fail(where, "'cancer_related' must be true or false")
    requirement = check.one_of(raw, "therapist_requirement", THERAPIST_REQUIREMENTS, where)
    if cancer_related is True and requirement != ONCOLOGY_TRAINED:
        check.fail(where, "a cancer-related condition must require an oncology-trained therapist")
    return cancer_related is True, requirement


def _own_citation(
    check: _Checker, citations: tuple[Citation, ...], cid: Any, at: str, *, optional: bool = False
) -> Citation | None:
    """A plan, alternative or minimum must cite one of the condition's own citations."""
    if cid is None and optional:
        return None
    if cid not in {c.id for c in citations}:
        check.fail(at, f"cites {cid!r}, which is not among the condition's citations")
        return None
    return next(c for c in citations if c.id == cid)


def _parse_field_tags(check: _Checker, plan: Mapping[str, Any], at: str) -> dict[str, Any]:
    """How sure each of the plan's numbers is, when it differs from the plan's own tag."""
    field_tags = plan.get("field_tags")
    if not isinstance(field_tags, dict) or not set(field_tags) <= set(DOSE_FIELDS):
        check.fail(at, f"'field_tags' must map some of {', '.join(DOSE_FIELDS)} to a tag")
        field_tags = {}
    if any(t not in TAGS for t in field_tags.values()):
        check.fail(at, "'field_tags' holds an unknown tag")
    return field_tags


def _parse_alternatives(
    check: _Checker, raw: Mapping[str, Any], where: str, citations: tuple[Citation, ...]
) -> tuple[Protocol, ...]:
    """Other protocols that worked; one without a citation of the condition's own is reported and left out."""
    alternatives = []
    for k, alt in enumerate(check.items(raw, "alternatives", where)):
        alt = alt if isinstance(alt, dict) else {}
        at_alt = f"{where} alternatives[{k}]"
        alt_dose = _dose(check, alt, at_alt)
        alt_citation = _own_citation(check, citations, alt.get("citation"), at_alt)
        if alt_citation is not None:
            alternatives.append(
                Protocol(
                    label=check.text(alt, "label", at_alt),
                    **alt_dose,
                    citation=alt_citation,
                    tag=check.one_of(alt, "tag", TAGS, at_alt),
                )
            )
    return tuple(alternatives)


def _parse_minimum(
    check: _Checker, raw: Mapping[str, Any], where: str, citations: tuple[Citation, ...]
) -> MinimumDose:
    """The minimum effective dose. Its numbers are optional (often no study found one), but numbers without
    the study they come from would be a rule nobody can check."""
    minimum_raw = raw.get("minimum_effective_dose")
    minimum_raw = minimum_raw if isinstance(minimum_raw, dict) else {}
    at = f"{where} minimum_effective_dose"
    minimum = MinimumDose(
        text=check.text(minimum_raw, "text", at),
        session_minutes=check.integer(minimum_raw, "session_minutes", at, optional=True),
        sessions_per_week=check.number(minimum_raw, "sessions_per_week", at, optional=True),
        weeks=check.integer(minimum_raw, "weeks", at, optional=True),
        total_sessions=check.integer(minimum_raw, "total_sessions", at, optional=True),
        citation=_own_citation(check, citations, minimum_raw.get("citation"), at, optional=True),
        tag=check.one_of(minimum_raw, "tag", TAGS, at),
    )
    if minimum.established and minimum.citation is None:
        check.fail(at, "a minimum with numbers must cite the study they come from")
    return minimum


def _dose(check: _Checker, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A plan's numbers; sessions x weeks must equal the total when all three are given."""
    dose = {
        "session_minutes": check.integer(raw, "session_minutes", where),
        "sessions_per_week": check.number(raw, "sessions_per_week", where, optional=True),
        "weeks": check.integer(raw, "weeks", where, optional=True),
        "total_sessions": check.integer(raw, "total_sessions", where),
    }
    per_week, weeks, total = dose["sessions_per_week"], dose["weeks"], dose["total_sessions"]
    if per_week is not None and weeks is not None and abs(per_week * weeks - total) > 1e-9:
        check.fail(where, f"{per_week} a week for {weeks} weeks is not {total} sessions")
    return dose


def _check_unique_names(check: _Checker, parsed: tuple[Condition, ...]) -> None:
    """Ids, names and aliases must each name one condition, or `find` could not tell them apart."""
    owner: dict[str, str] = {}
    seen_ids: set[str] = set()
    for c in parsed:
        if c.id in seen_ids:
            check.fail(f"condition {c.id}", "the id is used twice")
        seen_ids.add(c.id)
        for term in {_text_key(t) for t in (c.id, c.name, *c.aliases)}:
            if term in owner and owner[term] != c.id:
                check.fail(f"condition {c.id}", f"{term!r} already names {owner[term]}")
            owner[term] = c.id


def _parse_precaution(check: _Checker, raw: Any, n: int, resolve: Resolver) -> Precaution:
    where = f"intake_precautions[{n}]"
    raw = raw if isinstance(raw, dict) else {}
    pid = check.text(raw, "id", where)
    where = f"precaution {pid or n}"
    if pid and not _SLUG.match(pid):
        check.fail(where, "the id must be lower_snake_case")
    return Precaution(
        id=pid,
        name=check.text(raw, "name", where),
        gate=check.one_of(raw, "gate", PRECAUTION_GATES, where),
        adaptation=check.text(raw, "adaptation", where),
        clearance_when=check.text(raw, "clearance_when", where, optional=True),
        defer_when=check.text(raw, "defer_when", where, optional=True),
        citations=resolve(raw.get("citations"), where),
        tag=check.one_of(raw, "tag", TAGS, where),
    )


REGISTRY_VERSION: str = registry().version
