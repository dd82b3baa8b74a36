"""The released Avro schemas, indexed by record name, version and fingerprint.

Every released version stays in `avro/<Record>/v<N>.avsc` forever: a reader must be able to
resolve data written by any producer still running an older SDK.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form

from dua_schemas.errors import DuaError, UnknownSchema


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    """One released version of one record schema."""

    name: str
    version: int
    schema: dict[str, Any]  # as written in the .avsc file
    parsed: Any  # fastavro's parsed form, what its readers and writers take
    fingerprint: bytes  # CRC-64-AVRO of the parsing canonical form, little-endian (8 bytes)

    @property
    def canonical_form(self) -> str:
        return str(to_parsing_canonical_form(self.parsed))


def schema_version(name: str, version: int, schema: dict[str, Any]) -> SchemaVersion:
    """Parse one schema document into a `SchemaVersion`."""
    parsed = parse_schema(schema)
    fp = bytes.fromhex(fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO"))
    return SchemaVersion(name, version, schema, parsed, fp)


class SchemaCatalog:
    """Schemas by name (every version, newest last) and by fingerprint."""

    def __init__(self, versions: list[SchemaVersion]) -> None:
        self._by_name: dict[str, list[SchemaVersion]] = {}
        self._by_fingerprint: dict[bytes, SchemaVersion] = {}
        for sv in sorted(versions, key=lambda v: (v.name, v.version)):
            self._by_name.setdefault(sv.name, []).append(sv)
            self._by_fingerprint[sv.fingerprint] = sv

    @classmethod
    def from_directory(cls, root: Path) -> SchemaCatalog:
        """Load every `<Record>/v<N>.avsc` below `root`."""
        versions = []
        for path in sorted(root.glob("*/v*.avsc")):
            try:
                number = int(path.stem[1:])
            except ValueError as exc:
                raise DuaError(f"{path}: schema files are named v<N>.avsc") from exc
            versions.append(schema_version(path.parent.name, number, json.loads(path.read_text())))
        return cls(versions)

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def versions(self, name: str) -> list[SchemaVersion]:
        try:
            return list(self._by_name[name])
        except KeyError:
            raise UnknownSchema("unknown_record", f"no schema named {name!r}") from None

    def latest(self, name: str) -> SchemaVersion:
        return self.versions(name)[-1]

    def by_fingerprint(self, fp: bytes) -> SchemaVersion:
        try:
            return self._by_fingerprint[fp]
        except KeyError:
            raise UnknownSchema(
                "unknown_fingerprint", f"no released schema has fingerprint {fp.hex()}"
            ) from None


@cache
def default_catalog() -> SchemaCatalog:
    """The schemas shipped in this package."""
    root = resources.files("dua_schemas") / "avro"
    return SchemaCatalog.from_directory(Path(str(root)))
