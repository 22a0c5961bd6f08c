"""The tests' own layout: no module under tests/ imports from a test module (a `test_*.py`).

Shared builders are in tests/factories.py, page-reading helpers in tests/pages.py (tests/e2e/browser.py for
the browser tests), and fixtures several modules use in the conftest.py above them; a test module keeps only
what it alone uses. Importing one test module from another runs (and collects) its fixtures twice, hides
which helpers are shared, and breaks when the other module renames a private helper.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parents[1]
REPO = TESTS_DIR.parent


def _is_test_module(name: str) -> bool:
    return any(part.startswith("test_") for part in name.split("."))


def imports_of_test_modules(source: str, module: str) -> list[str]:
    """The imports in `source`, the text of the module named `module` (e.g. `tests.integration.test_x`),
    that reach a test module, each as "line N: <module>": `import tests.a.test_b`, `from tests.a.test_b
    import x`, `from tests.a import test_b`, and the relative `from .test_b import x`, `from . import test_b`.
    """
    package = module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if _is_test_module(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            origin = ".".join([*base, *([node.module] if node.module else [])])
            if _is_test_module(origin):
                found.append((node.lineno, origin))
            else:
                names = [a.name for a in node.names if a.name.startswith("test_")]
                found += [(node.lineno, f"{origin}.{name}") for name in names]
    return [f"line {line}: {name}" for line, name in sorted(found)]


def test_no_module_under_tests_imports_a_test_module():
    modules = sorted(TESTS_DIR.rglob("*.py"))
    assert Path(__file__).resolve() in modules and len(modules) > 50  # the walk sees the whole tree

    offences = {}
    for path in modules:
        name = ".".join(path.relative_to(REPO).with_suffix("").parts)
        if found := imports_of_test_modules(path.read_text(encoding="utf-8"), name):
            offences[str(path.relative_to(REPO))] = found
    assert offences == {}, "import builders from tests/factories.py or tests/pages.py; fixtures from conftest"


def test_the_check_finds_every_way_of_importing_a_test_module():
    source = """
from tests.integration.test_courses_api import _course, _intake
from tests.functional.test_search_page import is_checked
from tests.integration import test_eligibility_api
import tests.e2e.test_booking_flow
from .test_notifications import _book
from . import test_course_payments
from .. import factories

def later():
    from tests.integration.test_course_payments import booked as booked
"""
    assert imports_of_test_modules(source, "tests.integration.test_reminders") == [
        "line 2: tests.integration.test_courses_api",
        "line 3: tests.functional.test_search_page",
        "line 4: tests.integration.test_eligibility_api",
        "line 5: tests.e2e.test_booking_flow",
        "line 6: tests.integration.test_notifications",
        "line 7: tests.integration.test_course_payments",
        "line 11: tests.integration.test_course_payments",
    ]


def test_the_check_lets_helpers_fixtures_and_libraries_be_imported():
    source = """
import pytest
from massage_booking.services import courses
from tests import factories, pg_cluster
from tests.conftest import AuthActions
from tests.factories import VISA, bookable_therapist
from tests.integration.session_data import book
from tests.pages import result_names
from .search_data import World
"""
    assert imports_of_test_modules(source, "tests.integration.test_search") == []
