"""The SDK imports only what its distribution declares: never the pipeline."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import dua_producer

ALLOWED = {"dua_producer", "dua_schemas", "confluent_kafka", "fastavro", "prometheus_client"}
PIPELINE = (
    "faust",
    "chdb",
    "clickhouse_connect",
    "pydantic",
    "dua",
    "dua_policy",
    "dua_stream",
    "dua_sink",
    "dua_compliance",
)


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_sdk_source_imports_only_declared_dependencies() -> None:
    """Every import in dua_producer is the standard library or a declared dependency."""
    package = Path(dua_producer.__file__).parent
    for module in sorted(package.glob("*.py")):
        outside = imported_roots(module) - ALLOWED - set(sys.stdlib_module_names) - {"__future__"}
        assert not outside, f"{module.name} imports {sorted(outside)}"


def test_importing_the_sdk_loads_no_pipeline_module() -> None:
    """In a fresh interpreter, importing dua_producer (and its testing helpers) loads none of
    faust, chDB, clickhouse-connect, pydantic or the dua application."""
    code = (
        "import sys, dua_producer, dua_producer.testing;"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {PIPELINE!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
