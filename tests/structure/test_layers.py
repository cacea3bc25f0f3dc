"""The import graph of app/ goes one way: no circle, and services never reach up into tasks,
the realtime package or the event publisher (docs/architecture.md, Layers)."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """app modules that this file imports, at any depth of the file (function-level imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in APP.rglob("*.py")}
    edges = {}
    for name, path in files.items():
        targets = imports_of(path, set(files)) - {name}
        # A package's __init__ registering its own submodules (Flask blueprints) is not a dependency
        # of the package on them in the layering sense; a submodule importing its package is.
        if path.name == "__init__.py":
            targets = {t for t in targets if not t.startswith(name + ".")}
        edges[name] = targets
    return edges


def test_services_never_import_tasks_realtime_or_events():
    offenders = {
        m: sorted(t for t in targets if t.startswith(("app.tasks", "app.realtime", "app.events")))
        for m, targets in graph().items()
        if m.startswith("app.services")
    }
    assert {m: t for m, t in offenders.items() if t} == {}


def test_lower_layers_import_nothing_above_them():
    above = (
        "app.services",
        "app.tasks",
        "app.realtime",
        "app.events",
        "app.api",
        "app.admin",
        "app.auth",
        "app.live",
        "app.reports",
        "app.main",
    )
    low = (
        "app.jobs",
        "app.connections",
        "app.outbound",
        "app.infra",
        "app.models",
        "app.inference",
        "app.rules",
        "app.reporting",
    )
    leaf = {"app.services.errors"}  # the error type every layer raises; it imports nothing of ours
    offenders = {
        m: sorted(t for t in targets if t.startswith(above) and t not in leaf)
        for m, targets in graph().items()
        if m.startswith(low)
    }
    assert {m: t for m, t in offenders.items() if t} == {}


def test_the_import_graph_has_no_circle():
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert cycles == []


VIEW_PACKAGES = ("api", "admin", "auth", "live", "reports", "main", "realtime")


def database_uses(path: Path) -> list[str]:
    """The sqlalchemy imports and ``db.session`` uses of a file (a view asks a service instead)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] == "sqlalchemy"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sqlalchemy":
            found.append(f"from {node.module} import {', '.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Attribute) and node.attr == "session" and isinstance(node.value, ast.Name):
            if node.value.id == "db":
                found.append(f"db.session (line {node.lineno})")
    return found


def test_views_build_no_queries():
    offenders = {}
    for package in VIEW_PACKAGES:
        for path in sorted((APP / package).rglob("*.py")):
            rel = path.relative_to(APP).as_posix()
            uses = database_uses(path)
            if uses:
                offenders[rel] = uses
    assert offenders == {}


def test_the_query_check_sees_what_it_forbids(tmp_path):
    view = tmp_path / "view.py"
    view.write_text("from sqlalchemy import select\nimport sqlalchemy.orm\n\ndef f():\n    return db.session.get(X, 1)\n")
    assert database_uses(view) == ["from sqlalchemy import select", "import sqlalchemy.orm", "db.session (line 5)"]
    view.write_text("from app.services import listings\n\ndef f():\n    return listings.sites()\n")
    assert database_uses(view) == []
