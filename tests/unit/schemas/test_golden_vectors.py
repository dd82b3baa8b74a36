"""The encoder reproduces the golden vectors byte for byte, and decodes them back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dua_schemas import WireCodec, consent_from_json, event_from_json, to_json
from dua_schemas.json_form import parse_timestamp

GOLDEN = Path(__file__).parents[3] / "schemas" / "testdata" / "golden"
VECTORS = sorted(GOLDEN.glob("*.json"))


def _parse(vector: dict[str, Any]) -> dict[str, Any]:
    if vector["record"] == "Violation":  # the processor's record: times as RFC 3339 text
        obj = vector["json"]
        return {
            **obj,
            "occurred_at": parse_timestamp(obj["occurred_at"]),
            "detected_at": parse_timestamp(obj["detected_at"], "detected_at"),
        }
    parse = consent_from_json if vector["record"] == "ConsentChange" else event_from_json
    return dict(parse(vector["json"]))


def test_golden_vectors_exist() -> None:
    """At least one vector per wire-level record kind the SDK writes is shipped."""
    kinds = {json.loads(p.read_text())["record"] for p in VECTORS}
    assert {"DataAccessEvent", "ConsentChange"} <= kinds


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_encoder_matches_golden_bytes(path: Path) -> None:
    """Encoding the vector's JSON gives exactly the stored hex."""
    vector = json.loads(path.read_text())
    assert WireCodec().encode(vector["record"], _parse(vector)).hex() == vector["hex"]


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_golden_bytes_decode_to_the_json(path: Path) -> None:
    """Decoding the stored bytes gives back the record the JSON describes."""
    vector = json.loads(path.read_text())
    decoded = WireCodec().decode(bytes.fromhex(vector["hex"]))
    assert decoded.name == vector["record"]
    assert to_json(decoded.record) == to_json(_parse(vector))


def test_golden_header_is_single_object_encoding() -> None:
    """Every vector starts with C3 01 and the 8-byte fingerprint of its schema."""
    codec = WireCodec()
    for path in VECTORS:
        vector = json.loads(path.read_text())
        raw = bytes.fromhex(vector["hex"])
        assert raw[:2] == b"\xc3\x01"
        assert raw[2:10] == codec.catalog.latest(vector["record"]).fingerprint
