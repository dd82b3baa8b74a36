"""Imports go one way: schemas <- policy <- stream processors; schemas <- producers;
schemas <- sinks; schemas, policy <- compliance; the application wires them all.

Read statically from every module's source (an import inside a function counts too), and
checked at run time for the policy engine: importing it must load no Kafka client, Faust,
ClickHouse client or chDB.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

# component package -> its source folder
SOURCES = {
    "dua_schemas": REPO / "schemas" / "src" / "dua_schemas",
    "dua_policy": REPO / "policy" / "src" / "dua_policy",
    "dua_producer": REPO / "producers" / "python" / "src" / "dua_producer",
    "dua_stream": REPO / "stream_processors" / "src" / "dua_stream",
    "dua_sink": REPO / "sinks" / "src" / "dua_sink",
    "dua_compliance": REPO / "compliance" / "src" / "dua_compliance",
    "dua": REPO / "src" / "dua",
}
# A native build belongs to the component it speeds up.
OWNER = {"dua_schemas_native": "dua_schemas", "dua_stream_native": "dua_stream"}
ALLOWED = {
    "dua_schemas": set(),
    "dua_policy": {"dua_schemas"},
    "dua_producer": {"dua_schemas"},
    "dua_stream": {"dua_schemas", "dua_policy"},
    "dua_sink": {"dua_schemas"},
    "dua_compliance": {"dua_schemas", "dua_policy"},
    "dua": set(SOURCES) - {"dua"},
}
# What a pure engine must not pull in, directly or through another module.
ENGINE_FORBIDDEN = (
    "confluent_kafka",
    "aiokafka",
    "kafka",
    "faust",
    "mode",
    "clickhouse_connect",
    "chdb",
)


def _imported_roots(source: Path) -> set[str]:
    """Top-level names of every absolute import in the package's modules."""
    roots: set[str] = set()
    for path in source.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots.add(node.module.split(".")[0])
    return roots


def _components(roots: set[str], itself: str) -> set[str]:
    found = {OWNER.get(root, root) for root in roots}
    return (found & set(SOURCES)) - {itself}


@pytest.mark.parametrize("component", sorted(SOURCES))
def test_each_component_imports_only_what_lies_below_it(component: str) -> None:
    """A component's modules import no component outside its allowed set."""
    imported = _components(_imported_roots(SOURCES[component]), component)
    assert imported <= ALLOWED[component], (
        f"{component} imports {sorted(imported - ALLOWED[component])}"
    )


def test_no_component_imports_the_application() -> None:
    """`dua` (the application) is imported by nobody: it only wires the components."""
    for component, source in SOURCES.items():
        if component != "dua":
            assert "dua" not in _imported_roots(source), f"{component} imports dua"


def test_sink_and_compliance_do_not_import_each_other() -> None:
    """The writer and the read side meet only in ClickHouse (and the app that wires both)."""
    assert "dua_compliance" not in _imported_roots(SOURCES["dua_sink"])
    assert "dua_sink" not in _imported_roots(SOURCES["dua_compliance"])


def test_the_policy_engine_names_no_pipeline_library() -> None:
    """dua_policy's source imports no Kafka client, Faust, ClickHouse client or chDB."""
    assert not _imported_roots(SOURCES["dua_policy"]) & set(ENGINE_FORBIDDEN)


def test_importing_the_policy_engine_loads_no_pipeline_library() -> None:
    """At run time too: classifying an event loads none of them, even indirectly."""
    probe = (
        "import sys, dua_policy\n"
        "engine = dua_policy.Engine(dua_policy.load_policy())\n"
        f"print(','.join(sorted(m for m in {ENGINE_FORBIDDEN!r} if m in sys.modules)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""


def test_the_boundary_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    """The static reader finds an import hidden in a function body, so none can hide."""
    (tmp_path / "module.py").write_text(
        "from __future__ import annotations\n\n\ndef later() -> None:\n"
        "    from dua_sink.reader import x  # noqa\n    import dua.cli\n",
        encoding="utf-8",
    )
    found = _components(_imported_roots(tmp_path), "dua_compliance")
    assert found == {"dua_sink", "dua"}
    assert not found <= ALLOWED["dua_compliance"]
