"""Writes the golden vectors of `golden/` from their JSON inputs.

Run it only when the wire format is meant to change: the vectors are the contract other
languages' SDKs are tested against, and `tests/unit/schemas/test_golden_vectors.py` fails on
any encoder change that alters a byte.

    .venv/bin/python schemas/testdata/make_golden.py
"""

from __future__ import annotations

import json
from pathlib import Path

from dua_schemas import WireCodec, consent_from_json, event_from_json

HERE = Path(__file__).parent / "golden"


def main() -> None:
    codec = WireCodec()
    for path in sorted(HERE.glob("*.json")):
        vector = json.loads(path.read_text())
        parse = consent_from_json if vector["record"] == "ConsentChange" else event_from_json
        vector["hex"] = codec.encode(vector["record"], dict(parse(vector["json"]))).hex()
        path.write_text(json.dumps(vector, indent=2, ensure_ascii=False) + "\n")
        print(f"{path.name}: {len(vector['hex']) // 2} bytes")


if __name__ == "__main__":
    main()
