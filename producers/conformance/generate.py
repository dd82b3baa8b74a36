"""Writes the conformance suite every dua SDK runs, from the Python reference.

    .venv/bin/python producers/conformance/generate.py          # rewrite suite/*.json
    .venv/bin/python producers/conformance/generate.py --check  # exit 1 if they would change

The inputs are the cases below; the expected outputs are what `dua_schemas` and
`dua_producer` compute for them. Bump `SPEC_VERSION` when a case's expected output changes
meaning (not when a case is added). `README.md` beside this file says what each section pins.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import uuid
import zlib
from pathlib import Path
from typing import Any, Final

from dua_producer.pseudonym import pseudonymize
from dua_producer.spool_format import frame, scan
from dua_schemas import (
    CONSENT_CHANGE,
    DATA_ACCESS_EVENT,
    DuaError,
    InvalidEvent,
    UndecodablePayload,
    WireCodec,
    consent_from_json,
    default_catalog,
    event_from_json,
    to_json,
)

SPEC_VERSION: Final = 1
SUITE: Final = Path(__file__).parent / "suite"
CONFLUENT_SCHEMA_ID: Final = 4242  # what a registry would have answered; fixed for the suite
SDK_RECORDS: Final = (DATA_ACCESS_EVENT, CONSENT_CHANGE)  # the records an SDK writes
PSEUDONYM_KEYS: Final = ("conformance-key", "鍵🔑")

MINIMAL: Final[dict[str, Any]] = {
    "event_id": "00000000-0000-4000-8000-000000000001",
    "occurred_at": "2026-11-01T10:00:00Z",
    "service": "jalan",
    "actor": {"kind": "SERVICE", "id": "survey-api"},
    "elements": ["user.content.survey_answer"],
}
FULL: Final[dict[str, Any]] = {
    **MINIMAL,
    "occurred_at": "2026-11-01T10:00:00.123Z",
    "subject_id": "a" * 64,
    "elements": ["user.account.id", "user.financial.salary"],
    "purpose": "service.payroll_transfer",
    "operation": "SHARE",
    "processing": "PSEUDONYMIZED",
    "destination": {"kind": "FINANCIAL_INSTITUTION", "name": "example-bank"},
    "origin_service": "airwork-payroll",
    "consent": {
        "targeting_opt_out": True,
        "publication_consent": True,
        "payroll_other_use_consent": True,
    },
    "record_count": 12,
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "attributes": {"endpoint": "/transfers", "batch": "nightly"},
}


def _event(**changes: Any) -> dict[str, Any]:
    return {**MINIMAL, **changes}


ENCODE_CASES: Final[list[tuple[str, str, dict[str, Any]]]] = [
    ("defaults_only", DATA_ACCESS_EVENT, MINIMAL),
    ("every_optional_field", DATA_ACCESS_EVENT, FULL),
    (
        "non_ascii_text",
        DATA_ACCESS_EVENT,
        _event(
            actor={"kind": "EMPLOYEE", "id": "担当者-0042"},
            destination={"kind": "CLIENT", "name": "ホットペッパー加盟店 🍜"},
            attributes={"メモ": "ゼクシィ縁結び"},
        ),
    ),
    ("empty_map", DATA_ACCESS_EVENT, _event(attributes={})),
    ("map_keys_10_2_b", DATA_ACCESS_EVENT, _event(attributes={"b": "x", "10": "y", "2": "z"})),
    (
        "map_keys_outside_bmp",
        DATA_ACCESS_EVENT,
        _event(attributes={"😀": "astral", "\uff5e": "fullwidth tilde", "z": "ascii"}),
    ),
    ("int_max", DATA_ACCESS_EVENT, _event(record_count=2**31 - 1)),
    ("int_zero", DATA_ACCESS_EVENT, _event(record_count=0)),
    ("time_one_ms_before_1970", DATA_ACCESS_EVENT, _event(occurred_at=-1)),
    ("time_1900", DATA_ACCESS_EVENT, _event(occurred_at="1900-01-01T00:00:00Z")),
    ("time_9999", DATA_ACCESS_EVENT, _event(occurred_at="9999-12-31T23:59:59.999Z")),
    (
        "consent_change",
        CONSENT_CHANGE,
        {"subject_id": "b" * 64, "occurred_at": "2026-11-01T10:00:00Z", "targeting_opt_out": True},
    ),
]

# name, JSON form, expected (field, code) or None when valid. Values have the right JSON
# types: what a typed SDK API can express.
VALIDATE_CASES: Final[list[tuple[str, dict[str, Any]]]] = [
    ("valid_minimal", MINIMAL),
    ("valid_full", FULL),
    ("valid_empty_attribute_value", _event(attributes={"note": ""})),
    ("valid_128_code_points_outside_bmp", _event(service="😀" * 128)),
    ("valid_u001c_is_not_white_space", _event(service="\x1c")),
    ("event_id_not_uuid", _event(event_id="not-a-uuid")),
    ("service_empty", _event(service="")),
    ("service_white_space", _event(service=" \u00a0\u3000")),
    ("service_too_long", _event(service="s" * 129)),
    ("service_129_code_points_outside_bmp", _event(service="😀" * 129)),
    ("actor_kind_unknown", _event(actor={"kind": "ROBOT", "id": "x"})),
    ("actor_id_empty", _event(actor={"kind": "SERVICE", "id": ""})),
    ("elements_empty", _event(elements=[])),
    ("elements_too_many", _event(elements=[f"e{i}" for i in range(257)])),
    ("element_blank", _event(elements=["user.name", "\u2007"])),
    ("element_too_long", _event(elements=["e" * 129])),
    ("purpose_empty", _event(purpose="")),
    ("operation_unknown", _event(operation="READS")),
    ("processing_unknown", _event(processing="ANONYMIZED")),
    ("destination_kind_unknown", _event(destination={"kind": "MOON"})),
    ("destination_name_empty", _event(destination={"kind": "CLIENT", "name": ""})),
    ("origin_service_too_long", _event(origin_service="o" * 129)),
    ("record_count_negative", _event(record_count=-1)),
    ("record_count_above_int", _event(record_count=2**31)),
    ("trace_id_too_long", _event(trace_id="t" * 513)),
    ("attributes_too_many", _event(attributes={f"k{i}": "v" for i in range(33)})),
    ("attribute_key_empty", _event(attributes={"": "v"})),
    ("attribute_value_too_long", _event(attributes={"k": "v" * 513})),
]

# name, raw id as {"string": ...} / {"int": "<decimal>"} / {"uuid": ...}
PSEUDONYM_INPUTS: Final[list[tuple[str, dict[str, str]]]] = [
    ("ascii", {"string": "user-12345"}),
    ("non_ascii", {"string": "山田太郎"}),
    ("outside_bmp", {"string": "🍣user"}),
    ("kept_spaces", {"string": " user-12345 "}),
    ("kept_nbsp", {"string": "\u00a0user"}),
    ("empty", {"string": ""}),
    ("only_space", {"string": " \t\n"}),
    ("only_u00a0", {"string": "\u00a0"}),
    ("only_u0085", {"string": "\u0085"}),
    ("only_u2007", {"string": "\u2007"}),
    ("only_u3000", {"string": "\u3000"}),
    ("only_ufeff_is_text", {"string": "\ufeff"}),
    ("only_u001c_is_text", {"string": "\x1c"}),
    ("lone_high_surrogate", {"string": "user\ud800"}),
    ("lone_low_surrogate", {"string": "\udc00user"}),
    ("int", {"int": "42"}),
    ("int_negative", {"int": "-7"}),
    ("int_above_2_53", {"int": str(2**53 + 1)}),
    ("int_long_max", {"int": str(2**63 - 1)}),
    ("int_long_min", {"int": str(-(2**63))}),
    ("int_above_long", {"int": str(2**63)}),
    ("int_as_string_is_the_same", {"string": "42"}),
    ("uuid_upper_case", {"uuid": "6BA7B810-9DAD-11D1-80B4-00C04FD430C8"}),
    ("uuid_as_upper_case_string", {"string": "6BA7B810-9DAD-11D1-80B4-00C04FD430C8"}),
]


def _parse(record: str, form: dict[str, Any]) -> dict[str, Any]:
    return dict(consent_from_json(form) if record == CONSENT_CHANGE else event_from_json(form))


def schemas_section() -> dict[str, Any]:
    """For each record an SDK writes and each version: canonical form and fingerprint."""
    catalog = default_catalog()
    cases = []
    for name in SDK_RECORDS:
        for version in catalog.versions(name):
            (signed,) = struct.unpack("<q", version.fingerprint)
            cases.append(
                {
                    "record": name,
                    "version": version.version,
                    "latest": version is catalog.latest(name),
                    "avsc": f"schemas/src/dua_schemas/avro/{name}/v{version.version}.avsc",
                    "canonical_form": version.canonical_form,
                    "fingerprint_hex": version.fingerprint.hex(),
                    "fingerprint_int64": signed,
                }
            )
    return {"cases": cases}


def encode_section() -> dict[str, Any]:
    """JSON form -> single-object bytes and Confluent-framed bytes."""
    codec = WireCodec()
    cases = []
    for name, record, form in ENCODE_CASES:
        single = codec.encode(record, _parse(record, form))
        confluent = b"\x00" + struct.pack(">I", CONFLUENT_SCHEMA_ID) + single[10:]
        cases.append(
            {
                "name": name,
                "record": record,
                "input": form,
                "single_object_hex": single.hex(),
                "confluent_hex": confluent.hex(),
            }
        )
    # The one array an SDK writes (elements) may not be empty; its encoding is pinned anyway.
    empty = codec.encode(DATA_ACCESS_EVENT, {**_parse(DATA_ACCESS_EVENT, MINIMAL), "elements": []})
    empty_case: dict[str, Any] = {
        "name": "empty_array_not_valid",
        "record": DATA_ACCESS_EVENT,
        "input": {**MINIMAL, "elements": []},
        "valid": False,
        "single_object_hex": empty.hex(),
        "confluent_hex": (b"\x00" + struct.pack(">I", CONFLUENT_SCHEMA_ID) + empty[10:]).hex(),
    }
    cases.append(empty_case)
    return {"confluent_schema_id": CONFLUENT_SCHEMA_ID, "cases": cases}


def decode_section() -> dict[str, Any]:
    """Bytes -> the record in JSON form, or the kind of error."""
    codec = WireCodec()
    minimal = codec.encode(DATA_ACCESS_EVENT, _parse(DATA_ACCESS_EVENT, MINIMAL))
    full = codec.encode(DATA_ACCESS_EVENT, _parse(DATA_ACCESS_EVENT, FULL))
    consent = codec.encode(CONSENT_CHANGE, _parse(CONSENT_CHANGE, ENCODE_CASES[-1][2]))
    flipped = bytearray(minimal)
    flipped[5] ^= 0xFF
    bad_enum = bytearray(minimal)
    bad_enum[minimal.index(b"\x14survey-api") - 1] = 0x7E  # actor.kind index 63
    inputs = [
        ("minimal", minimal),
        ("full", full),
        ("consent_change", consent),
        ("empty", b""),
        ("bad_magic", b"\xc3\x02" + minimal[2:]),
        ("unknown_framing", b"\x7b" + minimal[1:]),
        ("header_truncated", minimal[:6]),
        ("body_truncated", minimal[:-1]),
        ("unknown_fingerprint", bytes(flipped)),
        ("trailing_bytes", minimal + b"\x00"),
        ("enum_index_out_of_range", bytes(bad_enum)),
        ("confluent_without_registry", b"\x00" + struct.pack(">I", 7) + minimal[10:]),
    ]
    cases = []
    for name, payload in inputs:
        case: dict[str, Any] = {"name": name, "hex": payload.hex()}
        try:
            decoded = codec.decode(payload)
        except UndecodablePayload as exc:
            case["error"] = exc.reason
        else:
            case["record"] = decoded.name
            case["json"] = to_json(decoded.record)
        cases.append(case)
    return {"cases": cases}


def _raw_id(spec: dict[str, str]) -> object:
    if "int" in spec:
        return int(spec["int"])
    if "uuid" in spec:
        return uuid.UUID(spec["uuid"])
    return spec["string"]


def pseudonym_section() -> dict[str, Any]:
    """Key + raw id -> the 64-hex pseudonym, or an error code."""
    cases = []
    for key in PSEUDONYM_KEYS:
        for name, spec in PSEUDONYM_INPUTS:
            case: dict[str, Any] = {"name": name, "key": key, "input": spec}
            try:
                case["pseudonym"] = pseudonymize(_raw_id(spec), key)
            except InvalidEvent as exc:
                case["error"] = exc.code
            cases.append(case)
    return {"cases": cases}


def validate_section() -> dict[str, Any]:
    """JSON form -> null (valid) or the first problem as `{field, code}`."""
    cases = []
    for name, form in VALIDATE_CASES:
        try:
            event_from_json(form)
        except InvalidEvent as exc:
            error: dict[str, str] | None = {"field": exc.field, "code": exc.code}
        else:
            error = None
        cases.append({"name": name, "input": form, "error": error})
    return {"cases": cases}


_SPOOL_RECORDS: Final[list[dict[str, str]]] = [
    {"topic": "dua.access.raw", "key_hex": ("a" * 64).encode().hex(), "value_hex": "c301aabb"},
    {"topic": "dua.consent", "key_hex": "", "value_hex": ""},
    {"topic": "dua.access.raw", "key_hex": "6b", "value_hex": "00" * 40},
]


def _segment(records: list[dict[str, str]]) -> bytes:
    return b"".join(
        frame(r["topic"], bytes.fromhex(r["key_hex"]), bytes.fromhex(r["value_hex"]))
        for r in records
    )


def spool_section() -> dict[str, Any]:
    """Records -> segment bytes; segment bytes -> the intact records and where reading stopped."""
    write: list[dict[str, Any]] = [
        {"name": "one", "records": _SPOOL_RECORDS[:1]},
        {"name": "three", "records": _SPOOL_RECORDS},
    ]
    for case in write:
        case["segment_hex"] = _segment(case["records"]).hex()
    whole = _segment(_SPOOL_RECORDS)
    first_end = len(_segment(_SPOOL_RECORDS[:1]))
    second_end = len(_segment(_SPOOL_RECORDS[:2]))
    corrupt = bytearray(whole)
    corrupt[second_end + 12] ^= 0x01  # a byte in the third record's body
    # a checksum that matches a body whose topic length (9) runs past its 2 bytes
    bad_body = struct.pack(">II", 2, zlib.crc32(b"\x00\x09")) + b"\x00\x09"
    read_inputs = [
        ("intact", whole, 0),
        ("empty", b"", 0),
        ("from_ack_cursor", whole, first_end),
        ("torn_header", whole + b"\x00\x00\x00", 0),
        ("torn_record", whole[:-5], 0),
        ("checksum_mismatch", bytes(corrupt), 0),
        ("length_beyond_limit", whole[:first_end] + b"\xff\xff\xff\xff\x00\x00\x00\x00", 0),
        ("bad_body", whole[:second_end] + bad_body, 0),
    ]
    read = []
    for name, data, start in read_inputs:
        records, end = scan(data, start)
        read.append(
            {
                "name": name,
                "segment_hex": data.hex(),
                "start": start,
                "records": [
                    {
                        "topic": r.topic,
                        "key_hex": r.key.hex(),
                        "value_hex": r.value.hex(),
                        "end": r.end,
                    }
                    for r in records
                ],
                "stop": {"offset": end.offset, "clean": end.clean, "reason": end.reason or None},
            }
        )
    return {"write": write, "read": read}


SECTIONS: Final = {
    "schemas": schemas_section,
    "encode": encode_section,
    "decode": decode_section,
    "pseudonym": pseudonym_section,
    "validate": validate_section,
    "spool": spool_section,
}


def render(section: str) -> str:
    """The text of `suite/<section>.json` (ASCII-escaped: lone surrogates survive any reader)."""
    body = {"spec_version": SPEC_VERSION, "section": section, **SECTIONS[section]()}
    return json.dumps(body, indent=1, ensure_ascii=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the suite, or with `--check` report the files regenerating would change."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 on drift")
    args = parser.parse_args(argv)
    SUITE.mkdir(exist_ok=True)
    stale = []
    for section in SECTIONS:
        path = SUITE / f"{section}.json"
        text = render(section)
        current = path.read_text(encoding="ascii") if path.exists() else None
        if current == text:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(text, encoding="ascii")
    if args.check and stale:
        print(f"conformance suite out of date: {', '.join(stale)}", file=sys.stderr)
        return 1
    for name in stale:
        print(f"wrote suite/{name}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DuaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
