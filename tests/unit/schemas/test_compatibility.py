"""Every released schema version reads data of every other version, and the check can fail."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from dua_schemas import (
    SchemaCatalog,
    WireCodec,
    default_catalog,
    event_from_json,
    schema_version,
)
from dua_schemas.compatibility import compatibility_problems

EVOLUTION = Path(__file__).parents[3] / "schemas" / "testdata" / "evolution"


def _with_fixture(kind: str) -> SchemaCatalog:
    versions = [v for name in default_catalog().names() for v in default_catalog().versions(name)]
    for path in sorted((EVOLUTION / kind).glob("*/v*.avsc")):
        versions.append(
            schema_version(path.parent.name, int(path.stem[1:]), json.loads(path.read_text()))
        )
    return SchemaCatalog(versions)


def test_released_versions_are_mutually_compatible() -> None:
    """The shipped catalog has no incompatible pair of versions."""
    assert compatibility_problems(default_catalog()) == []


def test_a_field_added_with_a_default_is_compatible() -> None:
    """A v2 that adds an optional field resolves against v1 in both directions."""
    catalog = _with_fixture("compatible")
    assert len(catalog.versions("DataAccessEvent")) == 2
    assert compatibility_problems(catalog) == []


def test_a_field_added_without_a_default_is_caught() -> None:
    """A v2 that adds a required field cannot read v1 data, and the check says so."""
    problems = compatibility_problems(_with_fixture("incompatible"))
    assert len(problems) == 1
    assert "DataAccessEvent v2 cannot read data written by v1" in problems[0]
    assert "region" in problems[0]


def test_older_writer_is_read_in_the_newest_version() -> None:
    """A message written with v1 decodes with v2's defaults when v2 is the newest release."""
    catalog = _with_fixture("compatible")
    codec = WireCodec(catalog)
    event = event_from_json(
        {
            "event_id": "00000000-0000-4000-8000-000000000002",
            "occurred_at": 0,
            "service": "jalan",
            "actor": {"kind": "USER", "id": "u"},
            "elements": ["user.name"],
        }
    )
    old = codec.encode_single_object(catalog.versions("DataAccessEvent")[0], dict(event))
    decoded = codec.decode(old)
    assert decoded.writer_version == 1
    assert decoded.record["region"] is None
    assert decoded.record["service"] == "jalan"


def test_a_v1_violation_reads_as_found_on_time() -> None:
    """A Violation written before `detected_late_ms` (v1) decodes with the v2 default: 0,
    found on time; v2 data stays readable by a v1 reader (the field is skipped)."""
    catalog = default_catalog()
    v1, v2 = catalog.versions("Violation")
    assert (v1.version, v2.version) == (1, 2)
    codec = WireCodec(catalog)
    record = {
        "violation_id": "v",
        "event_id": "00000000-0000-4000-8000-000000000003",
        "occurred_at": datetime(2026, 11, 1, tzinfo=UTC),
        "detected_at": datetime(2026, 11, 1, tzinfo=UTC),
        "policy_version": "p",
        "rule": "targeting_opted_out",
        "severity": "high",
        "mode": "active",
        "service": "jalan",
        "actor_kind": "SERVICE",
        "actor_id": "a",
        "subject_id": None,
        "purpose": None,
        "purpose_category": None,
        "destination_kind": "AD_PLATFORM",
        "elements": [],
        "message": "m",
        "trace_id": None,
    }
    decoded = codec.decode(codec.encode_single_object(v1, record))
    assert decoded.writer_version == 1
    assert decoded.record["detected_late_ms"] == 0


def test_a_v1_consent_change_reads_without_link_consent() -> None:
    """A ConsentChange written before `third_party_link_consent` (v1) decodes with the v2
    default: not given; v2 data stays readable by a v1 reader (the field is skipped)."""
    catalog = default_catalog()
    v1, v2 = catalog.versions("ConsentChange")
    assert (v1.version, v2.version) == (1, 2)
    codec = WireCodec(catalog)
    record = {
        "subject_id": "p",
        "occurred_at": datetime(2026, 11, 1, tzinfo=UTC),
        "targeting_opt_out": True,
        "publication_consent": False,
        "payroll_other_use_consent": False,
    }
    decoded = codec.decode(codec.encode_single_object(v1, record))
    assert decoded.writer_version == 1
    assert decoded.record["third_party_link_consent"] is False
    assert decoded.record["targeting_opt_out"] is True
    newer = codec.decode(
        codec.encode("ConsentChange", {**record, "third_party_link_consent": True})
    )
    assert newer.writer_version == 2
    assert newer.record["third_party_link_consent"] is True
    assert compatibility_problems(catalog) == []
