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
        "app.account",
        "app.live",
        "app.reports",
        "app.main",
        "app.gateway",
        "app.agent",
        "app.cli",
    )
    low = (
        "app.jobs",
        "app.connections",
        "app.outbound",
        "app.infra",
        "app.tenancy",
        "app.timefmt",
        "app.numformat",
        "app.text_rules",
        "app.labels",
        "app.models",
        "app.inference",
        "app.rules",
        "app.reporting",
        "app.tracking",
        "app.streams",
        "app.training",
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


def test_entry_points_stand_apart():
    """Nothing imports the gateway, the edge agent or the commands (they are processes and entry
    points above the services), and the agent imports nothing of ours but app/streams, so that
    Dockerfile.agent can ship those two packages alone."""
    edges = graph()

    def inside(module: str, package: str) -> bool:
        return module == package or module.startswith(package + ".")

    tops = ("app.gateway", "app.agent", "app.cli")
    importers = {
        m: sorted(t for t in targets if any(inside(t, top) and not inside(m, top) for top in tops))
        for m, targets in edges.items()
    }
    assert {m: t for m, t in importers.items() if t} == {}

    def outside(package: str, allowed: tuple[str, ...]) -> dict[str, list[str]]:
        found = {
            m: sorted(t for t in ts if not any(inside(t, a) for a in allowed)) for m, ts in edges.items() if inside(m, package)
        }
        return {m: t for m, t in found.items() if t}

    assert outside("app.agent", ("app.agent", "app.streams")) == {}
    assert outside("app.streams", ("app.streams",)) == {}
    assert outside("app.tracking", ("app.tracking",)) == {}


def third_party_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_pure_packages_import_no_flask():
    """Detection, classification, reports' arithmetic, tracking, stream reading and training run
    without Flask (the agent and a lent GPU have none); the rule kinds only word themselves through
    flask_babel's gettext, which reads English outside a request. Nothing of Flask's web side there."""
    offenders = {}
    for package in ("inference", "reporting", "tracking", "streams", "agent", "training", "rules"):
        for path in sorted((APP / package).rglob("*.py")):
            names = third_party_imports(path) & {"flask", "flask_babel", "flask_login", "flask_socketio", "flask_sqlalchemy"}
            if package == "rules":
                names -= {"flask_babel"}
            if names:
                offenders[path.relative_to(APP).as_posix()] = sorted(names)
    assert offenders == {}


# Views, the socket handlers, the gateway's coordinator and the commands ask services; they build no query.
VIEW_PACKAGES = ("api", "admin", "auth", "account", "live", "reports", "main", "realtime", "gateway")
VIEW_MODULES = ("cli.py",)


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
    paths = [p for package in VIEW_PACKAGES for p in sorted((APP / package).rglob("*.py"))]
    for path in paths + [APP / m for m in VIEW_MODULES]:
        uses = database_uses(path)
        if uses:
            offenders[path.relative_to(APP).as_posix()] = uses
    assert offenders == {}


def test_the_query_check_sees_what_it_forbids(tmp_path):
    view = tmp_path / "view.py"
    view.write_text("from sqlalchemy import select\nimport sqlalchemy.orm\n\ndef f():\n    return db.session.get(X, 1)\n")
    assert database_uses(view) == ["from sqlalchemy import select", "import sqlalchemy.orm", "db.session (line 5)"]
    view.write_text("from app.services import listings\n\ndef f():\n    return listings.sites()\n")
    assert database_uses(view) == []
