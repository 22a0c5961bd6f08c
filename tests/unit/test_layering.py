"""massage_booking/domain is pure Python: it must not import Flask, its extensions, SQLAlchemy or Werkzeug.

Two checks: a static scan of every import statement (including ones only under TYPE_CHECKING, and relative
imports that climb out of the domain package), and a real import of every domain module in a fresh
interpreter, which also catches imports made indirectly or dynamically.
"""

from __future__ import annotations

import ast
import graphlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "massage_booking"
DOMAIN_DIR = ROOT / PACKAGE / "domain"


def is_forbidden(module: str) -> bool:
    top = module.split(".")[0]
    return top in {"flask", "sqlalchemy", "werkzeug"} or top.startswith("flask_")


def is_outside_domain(module: str) -> bool:
    """The domain may use its own modules, never the rest of the app (models, services, extensions...)."""
    return module.split(".")[0] == PACKAGE and not (module + ".").startswith(f"{PACKAGE}.domain.")


def imported_modules(source: str, module_name: str) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in `source`, the code of module `module_name`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                base = module_name.split(".")[: -node.level]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # `from pkg import mod` may name a submodule: check pkg.mod as well.
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names if alias.name != "*"]
    return found


def violations(source: str, module_name: str) -> list[str]:
    return [
        f"{module_name}:{line} imports {name}"
        for line, name in imported_modules(source, module_name)
        if is_forbidden(name) or is_outside_domain(name)
    ]


def domain_modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(DOMAIN_DIR.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def forbidden_after_import(package_dir: Path, module_names: list[str]) -> dict[str, list[str]]:
    """Import each module in a fresh interpreter; name the forbidden modules each one pulled in.

    The package's own __init__ (which builds the Flask app) is replaced by an empty package object so that
    only what the domain modules themselves import is measured.
    """
    script = textwrap.dedent(
        """
        import importlib, json, sys, types
        package_dir, names = sys.argv[1], json.loads(sys.argv[2])
        package = types.ModuleType(names[0].split(".")[0])
        package.__path__ = [package_dir]
        sys.modules[package.__name__] = package
        loaded = {}
        for name in names:
            before = set(sys.modules)
            importlib.import_module(name)
            loaded[name] = sorted(set(sys.modules) - before)
        print(json.dumps(loaded))
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, str(package_dir), json.dumps(module_names)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=package_dir.parent,
    )
    assert completed.returncode == 0, completed.stderr
    loaded = json.loads(completed.stdout.splitlines()[-1])
    return {name: [m for m in modules if is_forbidden(m)] for name, modules in loaded.items()}


# ------------------------------------------------------------------------------------------ the rule


def test_domain_sources_import_no_framework():
    modules = domain_modules()
    assert f"{PACKAGE}.domain" in modules, "the scan found no domain package"
    problems = [v for name, path in modules.items() for v in violations(path.read_text(), name)]
    assert problems == [], "domain/ must stay pure Python:\n" + "\n".join(problems)


def test_importing_domain_modules_loads_no_framework():
    loaded = forbidden_after_import(ROOT / PACKAGE, sorted(domain_modules()))
    assert loaded, "no domain module was imported"
    problems = {name: mods for name, mods in loaded.items() if mods}
    assert problems == {}, f"importing these domain modules loads framework modules: {problems}"


# ----------------------------------------------------------------------- the checks catch violations


@pytest.mark.parametrize(
    "snippet",
    [
        "import flask",
        "import os, sqlalchemy.orm",
        "import flask_login as fl",
        "from werkzeug.security import generate_password_hash",
        "from sqlalchemy import select",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from flask import Flask",
        "def f():\n    import flask_sqlalchemy",
        "from massage_booking import extensions",
        "from massage_booking.models import User",
        "from .. import models",
        "from ..services.accounts import register",
    ],
)
def test_scan_finds_a_violation(snippet):
    assert violations(snippet, "massage_booking.domain.example")


@pytest.mark.parametrize(
    "snippet",
    [
        "from __future__ import annotations\nimport re, zoneinfo\nfrom datetime import datetime",
        "import flasky\nimport geopy.distance",
        "from massage_booking.domain.errors import DomainError",
        "from . import errors\nfrom .errors import ValidationFailed",
    ],
)
def test_scan_allows_pure_imports(snippet):
    assert violations(snippet, "massage_booking.domain.example") == []


def test_import_check_finds_an_indirect_violation(tmp_path):
    package = tmp_path / "fakepkg"
    (package / "domain").mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('the package __init__ must not run')\n")
    (package / "domain" / "__init__.py").write_text("")
    (package / "domain" / "clean.py").write_text("import json\n")
    (package / "domain" / "sneaky.py").write_text("import importlib\nimportlib.import_module('werkzeug')\n")
    loaded = forbidden_after_import(package, ["fakepkg.domain.clean", "fakepkg.domain.sneaky"])
    assert loaded["fakepkg.domain.clean"] == []
    assert "werkzeug" in loaded["fakepkg.domain.sneaky"]


# ------------------------------------------------------------- services and schemas: below the edges


def _sources(package: str) -> dict[str, Path]:
    """The modules of a package under massage_booking/, or the one module a ".py" name gives."""
    found = {}
    where = ROOT / PACKAGE / package
    for path in [where] if package.endswith(".py") else sorted(where.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _reaches_the_edge(module: str) -> bool:
    """Flask (its request, session, current_user, current_app ...), Werkzeug, a blueprint package, or the
    app's wiring (`extensions`, the CLI), which reads the app's config."""
    top = module.split(".")[0]
    edges = tuple(f"{PACKAGE}.{edge}." for edge in ("api", "web", "auth", "fhir", "extensions", "cli"))
    return top in {"flask", "werkzeug"} or top.startswith("flask_") or (module + ".").startswith(edges)


BELOW_THE_EDGES = ["services", "schemas", "notifications", "demo", "domain", "geocoding.py", "formatting.py"]


@pytest.mark.parametrize("package", BELOW_THE_EDGES)
def test_services_and_schemas_never_reach_for_the_request(package):
    """Services take typed commands and return results; schemas declare the contract; notifications compose
    and queue mail. None reads the request, the session, the user or the app's config (`current_app`), nor
    builds a response: the edges pass what they need (the clock, the payment adapter, `Links`, the
    geocoder)."""
    modules = _sources(package)
    assert modules, f"no modules under {package}"
    problems = [
        f"{name}:{line} imports {imported}"
        for name, path in modules.items()
        for line, imported in imported_modules(path.read_text(), name)
        if _reaches_the_edge(imported)
    ]
    assert problems == [], "\n".join(problems)


def test_schemas_import_no_service():
    """Schemas sit below services (a service may take a schema's model as its command), never above."""
    problems = [
        f"{name}:{line} imports {imported}"
        for name, path in _sources("schemas").items()
        for line, imported in imported_modules(path.read_text(), name)
        if (imported + ".").startswith(f"{PACKAGE}.services.")
    ]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    "snippet",
    [
        "from flask import request",
        "from flask_login import current_user",
        "from massage_booking.api import bp",
        "from flask import current_app, has_app_context",
        "from massage_booking.extensions import links",
        "from massage_booking import extensions",
    ],
)
def test_the_edge_check_finds_a_violation(snippet):
    assert any(_reaches_the_edge(m) for _, m in imported_modules(snippet, "massage_booking.services.x"))


# ------------------------------------------------------------------------------- no import loops below


BLUEPRINTS = ("api", "web", "auth", "fhir")  # a blueprint's __init__ imports its views, which import it


def import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """Module -> the modules of `sources` it imports, anywhere in its code (a function-local import is how
    a loop hides)."""
    return {
        name: {imported for _, imported in imported_modules(code, name) if imported in sources} - {name}
        for name, code in sources.items()
    }


def import_loop(graph: dict[str, set[str]]) -> list[str]:
    """One loop of imports, or [] when the modules can be ordered so that each imports only earlier ones."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as loop:
        return list(loop.args[1])
    return []


def test_no_import_loop_outside_the_blueprints():
    """A loop means neither module can be understood, tested or moved without the other: services,
    schemas, notifications, models and the domain form layers."""
    sources = {
        name: path.read_text()
        for name, path in _sources("").items()
        if not (name + ".").startswith(tuple(f"{PACKAGE}.{bp}." for bp in BLUEPRINTS)) and name != PACKAGE
    }
    assert f"{PACKAGE}.services.courses" in sources
    assert import_loop(import_graph(sources)) == []


def test_the_loop_check_finds_a_loop_through_a_function_local_import():
    sources = {
        "massage_booking.services.a": "from massage_booking.services import b",
        "massage_booking.services.b": "def f():\n    from massage_booking.services.c import g",
        "massage_booking.services.c": "import massage_booking.services.a",
        "massage_booking.services.d": "from massage_booking.services import a",
    }
    loop = import_loop(import_graph(sources))
    assert set(loop) == {
        "massage_booking.services.a",
        "massage_booking.services.b",
        "massage_booking.services.c",
    }
    assert import_loop(import_graph({**sources, "massage_booking.services.c": ""})) == []
