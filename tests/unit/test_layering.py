"""The house rules, checked on every module: imports point down the layers, engines do no I/O, sizes stay small.

Layers: models ← jobs ← state ← dashboard. Inside `jobs`, wings from the bottom up: engines ← stores, integrations
← runtime ← auth, tasks ← worker ← demo ← cli (docs/architecture.md). A module may import its own wing and the
wings below it. Every import counts, also one inside a function: a lazy import still ties the two modules.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"models": 0, "jobs": 1, "state": 2, "dashboard": 3}
WINGS = {"engines": 0, "stores": 1, "integrations": 1, "runtime": 2, "auth": 3, "tasks": 3, "worker": 4,
         "demo": 5, "cli": 6}
# What an engine may not touch: the database, Redis, the queue, HTTP, the web framework, settings.
ENGINE_FORBIDDEN = {"models", "redis", "arq", "sqlmodel", "sqlalchemy", "asyncpg", "aiosqlite", "httpx", "reflex",
                    "state", "dashboard", "jobs.stores", "jobs.runtime", "jobs.tasks", "jobs.integrations"}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, dotted module) of every absolute import, with `from a import b` also giving `a.b`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def wing_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "jobs" and len(parts) > 1 and parts[1] in WINGS else None


def import_violations(module: str, imports: list[tuple[int, str]], path: str) -> list[Violation]:
    """Imports of `module` that point up a layer or wing, or out of an engine."""
    out: list[Violation] = []
    top = module.split(".")[0]
    wing = wing_of(module)
    for line, target in imports:
        target_top = target.split(".")[0]
        if target_top in PACKAGES and PACKAGES[target_top] > PACKAGES[top]:
            out.append(Violation(path, line, f"{top} may not import {target} (layers: models ← jobs ← state ← dashboard)"))
        if wing is None or target_top != "jobs":
            if wing == "engines" and any(target == f or target.startswith(f + ".") for f in ENGINE_FORBIDDEN):
                out.append(Violation(path, line, f"engine imports {target}: engines do no I/O"))
            continue
        target_wing = wing_of(target)
        if target_wing is None or target_wing == wing:
            continue
        if WINGS[target_wing] >= WINGS[wing]:
            out.append(Violation(path, line, f"jobs.{wing} may not import {target} (a wing imports only wings below)"))
        elif wing == "engines":
            out.append(Violation(path, line, f"engine imports {target}: engines do no I/O"))
    return out


def size_violations(tree: ast.AST, length: int, path: str) -> list[Violation]:
    out = []
    if length > MAX_MODULE_LINES:
        out.append(Violation(path, 1, f"module has {length} lines (at most {MAX_MODULE_LINES})"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                out.append(Violation(path, node.lineno,
                                     f"function {node.name} has {lines} lines (at most {MAX_FUNCTION_LINES})"))
    return out


def house_violations(root: Path) -> list[Violation]:
    """Every layering and size violation in the four packages under `root` (migrations excluded)."""
    out: list[Violation] = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = str(path.relative_to(root))
            if rel.startswith("models/migrations/"):
                continue
            source = path.read_text()
            tree = ast.parse(source)
            found = import_violations(module_name(root, path), imported_names(tree), rel)
            out += list({v.line: v for v in reversed(found)}.values())[::-1]  # one per import statement
            out += size_violations(tree, source.count("\n") + 1, rel)
    return out


def test_the_house_is_in_order() -> None:
    violations = house_violations(ROOT)
    assert not violations, "\n".join(map(str, violations))


def plant(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
    return tmp_path


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("models/queries/x.py", "from jobs.runtime.queue import enqueue_job\n", "models may not import"),
    ("jobs/engines/drift/x.py", "import redis\n", "engines do no I/O"),
    ("jobs/engines/drift/x.py", "def f():\n    from models.db import session_scope\n", "engines do no I/O"),
    ("jobs/engines/policy/x.py", "from jobs.stores.flows import partition_path\n", "wing imports only wings below"),
    ("jobs/runtime/x.py", "from jobs.tasks.ingest import ingest_flows\n", "wing imports only wings below"),
    ("jobs/tasks/x.py", "from jobs.auth.tickets import issue_ticket\n", "wing imports only wings below"),
    ("state/x.py", "from dashboard.api.deps import DbSession\n", "state may not import"),
])
def test_a_planted_bad_import_is_caught(tmp_path: Path, name: str, text: str, expected: str) -> None:
    violations = house_violations(plant(tmp_path, {name: text}))
    assert [v.path for v in violations] == [name]
    assert expected in violations[0].message


def test_good_imports_pass(tmp_path: Path) -> None:
    root = plant(tmp_path, {
        "jobs/tasks/x.py": "from jobs.runtime.queue import q\nfrom jobs.engines.drift import analyze\nimport models\n",
        "jobs/engines/drift/x.py": "import polars\nfrom jobs.engines.snapshot.types import NodeKind\n",
        "dashboard/x.py": "from state.base import AppState\nfrom jobs.runtime.queue import q\n",
    })
    assert house_violations(root) == []


def test_oversized_modules_and_functions_are_caught(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    root = plant(tmp_path, {"jobs/runtime/big.py": "def f():\n" + body + "\n" * MAX_MODULE_LINES})
    messages = sorted(v.message for v in house_violations(root))
    assert messages[0].startswith("function f has 61 lines")
    assert messages[1].startswith("module has")


def import_graph(root: Path) -> nx.DiGraph:
    """Module → module for every import between our modules (lazy and type-only imports too)."""
    modules = {module_name(root, path): path for package in PACKAGES for path in (root / package).rglob("*.py")
               if not str(path.relative_to(root)).startswith("models/migrations/")}
    graph = nx.DiGraph()
    for module, path in modules.items():
        for _, target in imported_names(ast.parse(path.read_text())):
            if target in modules and target != module:
                graph.add_edge(module, target)
    return graph


def test_no_import_circles() -> None:
    circles = [" -> ".join(cycle) for cycle in nx.simple_cycles(import_graph(ROOT))]
    assert not circles, "\n".join(circles)


def test_a_planted_import_circle_is_caught(tmp_path: Path) -> None:
    root = plant(tmp_path, {"jobs/runtime/a.py": "from jobs.runtime.b import x\n",
                            "jobs/runtime/b.py": "def f():\n    from jobs.runtime.a import y\n"})
    assert list(nx.simple_cycles(import_graph(root))) != []
