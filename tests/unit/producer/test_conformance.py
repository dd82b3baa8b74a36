"""The Python SDK against the checked-in conformance suite (`producers/conformance/`)."""

from __future__ import annotations

import importlib.util
import json
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dua_producer.event_layout import event_encoder, per_call_values
from dua_producer.pseudonym import Pseudonymizer, pseudonymize
from dua_producer.spool_format import frame, scan
from dua_schemas import (
    CONSENT_CHANGE,
    InvalidEvent,
    UndecodablePayload,
    WireCodec,
    consent_from_json,
    default_catalog,
    event_from_json,
    to_json,
)

CONFORMANCE = Path(__file__).parents[3] / "producers" / "conformance"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "dua_conformance_generate", CONFORMANCE / "generate.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cases(section: str, key: str = "cases") -> list[dict[str, Any]]:
    suite = json.loads((CONFORMANCE / "suite" / f"{section}.json").read_text(encoding="ascii"))
    assert suite["spec_version"] == 1
    cases: list[dict[str, Any]] = suite[key]
    return cases


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [str(c["name"]) if "name" in c else f"{c['record']}-v{c['version']}" for c in cases]


def test_suite_is_what_the_generator_writes() -> None:
    """Regenerating the suite from the Python reference changes no byte of it."""
    assert _generator().main(["--check"]) == 0


@pytest.mark.parametrize("case", _cases("schemas"), ids=_ids(_cases("schemas")))
def test_schemas(case: dict[str, Any]) -> None:
    """The catalog's canonical form and CRC-64-AVRO fingerprint are the pinned ones."""
    version = next(
        v for v in default_catalog().versions(case["record"]) if v.version == case["version"]
    )
    assert version.canonical_form == case["canonical_form"]
    assert version.fingerprint.hex() == case["fingerprint_hex"]


@pytest.mark.parametrize("case", _cases("encode"), ids=_ids(_cases("encode")))
def test_encode(case: dict[str, Any]) -> None:
    """The SDK's encoder writes the pinned single-object bytes for the JSON input."""
    codec = WireCodec()
    expected = bytes.fromhex(case["single_object_hex"])
    if case["record"] == CONSENT_CHANGE:
        assert codec.encode(CONSENT_CHANGE, dict(consent_from_json(case["input"]))) == expected
        return
    if case.get("valid", True):
        record = dict(event_from_json(case["input"]))
        encoder = event_encoder(codec, record)
        assert encoder.encode(encoder.prepare(record), per_call_values(record)) == expected
    else:
        with pytest.raises(InvalidEvent):
            event_from_json(case["input"])
    assert bytes.fromhex(case["confluent_hex"])[5:] == expected[10:]


@pytest.mark.parametrize("case", _cases("decode"), ids=_ids(_cases("decode")))
def test_decode(case: dict[str, Any]) -> None:
    """Bytes decode to the pinned record, or fail with the pinned error kind."""
    codec = WireCodec()
    payload = bytes.fromhex(case["hex"])
    if "error" in case:
        with pytest.raises(UndecodablePayload) as caught:
            codec.decode(payload)
        assert caught.value.reason == case["error"]
    else:
        decoded = codec.decode(payload)
        assert decoded.name == case["record"]
        assert to_json(decoded.record) == case["json"]


def _raw(spec: dict[str, str]) -> object:
    if "int" in spec:
        return int(spec["int"])
    if "uuid" in spec:
        return uuid.UUID(spec["uuid"])
    return spec["string"]


@pytest.mark.parametrize("case", _cases("pseudonym"), ids=_ids(_cases("pseudonym")))
def test_pseudonym(case: dict[str, Any]) -> None:
    """The pseudonym (or refusal) of each raw id, by both of the SDK's entry points."""
    raw = _raw(case["input"])
    for compute in (lambda r: pseudonymize(r, case["key"]), Pseudonymizer(case["key"])):
        if "error" in case:
            with pytest.raises(InvalidEvent) as caught:
                compute(raw)
            assert (caught.value.field, caught.value.code) == ("subject", case["error"])
        else:
            assert compute(raw) == case["pseudonym"]


@pytest.mark.parametrize("case", _cases("validate"), ids=_ids(_cases("validate")))
def test_validate(case: dict[str, Any]) -> None:
    """Validation accepts the valid inputs and names the pinned field and code otherwise."""
    if case["error"] is None:
        event_from_json(case["input"])
        return
    with pytest.raises(InvalidEvent) as caught:
        event_from_json(case["input"])
    assert {"field": caught.value.field, "code": caught.value.code} == case["error"]


@pytest.mark.parametrize("case", _cases("spool", "write"), ids=_ids(_cases("spool", "write")))
def test_spool_write(case: dict[str, Any]) -> None:
    """Records frame to the pinned segment bytes."""
    data = b"".join(
        frame(r["topic"], bytes.fromhex(r["key_hex"]), bytes.fromhex(r["value_hex"]))
        for r in case["records"]
    )
    assert data.hex() == case["segment_hex"]


@pytest.mark.parametrize("case", _cases("spool", "read"), ids=_ids(_cases("spool", "read")))
def test_spool_read(case: dict[str, Any]) -> None:
    """A segment scans to its intact records and stops where, and for the reason, pinned."""
    records, end = scan(bytes.fromhex(case["segment_hex"]), case["start"])
    assert [
        {"topic": r.topic, "key_hex": r.key.hex(), "value_hex": r.value.hex(), "end": r.end}
        for r in records
    ] == case["records"]
    assert {"offset": end.offset, "clean": end.clean, "reason": end.reason or None} == case["stop"]
