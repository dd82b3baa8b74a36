"""Reading access events and consent changes from a JSON-lines or Avro container file.

Bad input is data: a line that is not an event becomes a `Rejected` item naming its line
number and the problem, and reading carries on with the next line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Final, Literal, cast

from fastavro import reader as avro_reader

from dua_schemas import (
    CONSENT_CHANGE,
    DATA_ACCESS_EVENT,
    ConsentChange,
    DataAccessEvent,
    InvalidEvent,
    parse_json_line,
    validate_consent,
    validate_event,
)

InputFormat = Literal["jsonl", "avro"]
FORMATS: Final = ("jsonl", "avro")


@dataclass(frozen=True, slots=True)
class Access:
    """An access event read at `number` (line or record number, from 1)."""

    number: int
    event: DataAccessEvent


@dataclass(frozen=True, slots=True)
class Consent:
    """A consent change read at `number`."""

    number: int
    change: ConsentChange


@dataclass(frozen=True, slots=True)
class Rejected:
    """Input at `number` that is not a valid event; `problem` says why."""

    number: int
    problem: str


Item = Access | Consent | Rejected


def read_items(stream: IO[bytes], input_format: InputFormat) -> Iterator[Item]:
    """Every item of the input, in order."""
    if input_format == "avro":
        yield from _read_avro(stream)
    else:
        yield from _read_json_lines(stream)


def _read_json_lines(stream: IO[bytes]) -> Iterator[Item]:
    for number, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            yield Rejected(number, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
            continue
        if not line:
            continue
        try:
            kind, record = parse_json_line(json.loads(line))
        except json.JSONDecodeError as exc:
            yield Rejected(number, f"not JSON: {exc.msg} at column {exc.colno}")
            continue
        except InvalidEvent as exc:
            yield Rejected(number, str(exc))
            continue
        if kind == "consent":
            yield Consent(number, cast(ConsentChange, record))
        else:
            yield Access(number, cast(DataAccessEvent, record))


def _read_avro(stream: IO[bytes]) -> Iterator[Item]:
    try:
        records = avro_reader(stream)
    except Exception as exc:  # fastavro raises many kinds on a bad header; all mean the same
        yield Rejected(0, f"not an Avro object container file: {exc}")
        return
    schema = records.writer_schema
    name = str(schema.get("name", "") if isinstance(schema, dict) else "").rpartition(".")[2]
    if name not in (DATA_ACCESS_EVENT, CONSENT_CHANGE):
        yield Rejected(0, f"the file holds {name or 'unnamed'} records, not {DATA_ACCESS_EVENT}")
        return
    number = 0
    try:
        for number, raw in enumerate(records, start=1):
            if not isinstance(raw, dict):
                yield Rejected(number, f"not a record: {type(raw).__name__}")
                continue
            try:
                if name == CONSENT_CHANGE:
                    validate_consent(raw)
                    yield Consent(number, cast(ConsentChange, raw))
                else:
                    validate_event(raw)
                    yield Access(number, cast(DataAccessEvent, raw))
            except (InvalidEvent, KeyError, TypeError) as exc:
                yield Rejected(number, str(exc))
    except Exception as exc:  # a corrupt block: the rest of the file cannot be read
        yield Rejected(number + 1, f"unreadable Avro data: {exc}")
