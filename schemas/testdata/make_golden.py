"""Writes the golden vectors of `golden/` from their JSON inputs.

Run it only when the wire format is meant to change: the vectors are the contract other
languages' SDKs are tested against, and `tests/unit/schemas/test_golden_vectors.py` fails on
any encoder change that alters a byte.

    .venv/bin/python schemas/testdata/make_golden.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dua_schemas import WireCodec, consent_from_json, event_from_json
from dua_schemas.json_form import parse_timestamp

HERE = Path(__file__).parent / "golden"


def violation_from_json(obj: dict[str, Any]) -> dict[str, Any]:
    """A Violation record from its JSON form (times as RFC 3339 text)."""
    return {
        **obj,
        "occurred_at": parse_timestamp(obj["occurred_at"]),
        "detected_at": parse_timestamp(obj["detected_at"], "detected_at"),
    }


PARSERS: dict[str, Any] = {
    "ConsentChange": consent_from_json,
    "DataAccessEvent": event_from_json,
    "Violation": violation_from_json,
}


def main() -> None:
    codec = WireCodec()
    for path in sorted(HERE.glob("*.json")):
        vector = json.loads(path.read_text())
        parse = PARSERS[vector["record"]]
        vector["hex"] = codec.encode(vector["record"], dict(parse(vector["json"]))).hex()
        path.write_text(json.dumps(vector, indent=2, ensure_ascii=False) + "\n")
        print(f"{path.name}: {len(vector['hex']) // 2} bytes")


if __name__ == "__main__":
    main()
