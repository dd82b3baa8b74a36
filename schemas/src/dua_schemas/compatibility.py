"""Proof that released schema versions can read each other's data (full compatibility).

For every pair of versions of a record, sample records are written with one and read with the
other through fastavro's schema resolution, both ways. A new version that adds a field
without a default, drops a symbol, or changes a type fails here before it is released.
"""

from __future__ import annotations

import io
from itertools import permutations

from fastavro import schemaless_reader, schemaless_writer
from fastavro.utils import generate_many

from dua_schemas.catalog import SchemaCatalog, SchemaVersion

SAMPLES_PER_PAIR = 20


def _round_trip(writer: SchemaVersion, reader: SchemaVersion, samples: int) -> str | None:
    for record in generate_many(writer.parsed, samples):
        buf = io.BytesIO()
        schemaless_writer(buf, writer.parsed, record)
        buf.seek(0)
        try:
            schemaless_reader(buf, writer.parsed, reader.parsed)
        except Exception as exc:  # fastavro signals incompatibility with several kinds
            return (
                f"{writer.name} v{reader.version} cannot read data written by "
                f"v{writer.version}: {exc}"
            )
    return None


def compatibility_problems(catalog: SchemaCatalog, samples: int = SAMPLES_PER_PAIR) -> list[str]:
    """Every (writer, reader) pair of versions of the same record that fails to resolve."""
    problems = []
    for name in catalog.names():
        for writer, reader in permutations(catalog.versions(name), 2):
            problem = _round_trip(writer, reader, samples)
            if problem:
                problems.append(problem)
    return problems
