"""`dua records appi`: APPI third-party provision records (Art. 29) and the confirmation
records of informative data provided to recipients that can link it (Art. 31)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

import click

from dua.read_path import open_reader
from dua.settings import load_settings
from dua_compliance import appi_csv, appi_json, appi_records, window_start
from dua_schemas import ConfigError


def _moment(text: str, now: datetime, option: str) -> datetime:
    """`30d` (that long before now), `2026-11-01` (midnight UTC) or an ISO time with a zone."""
    if text[-1:].isalpha() and text[:-1].strip().isdigit():
        return window_start(text, now)
    try:
        if len(text) == len("2026-11-01"):
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(
            f"{option} {text!r} is neither a duration (30d) nor a date (2026-11-01)"
        ) from exc
    if moment.tzinfo is None:
        raise ConfigError(f"{option} {text!r} has no timezone (write 2026-11-01T00:00:00Z)")
    return moment


@click.command()
@click.option(
    "--since", required=True, help="Start: a duration before now (30d) or a date (2026-11-01)."
)
@click.option("--until", default=None, help="End (excluded), the same forms; default: now.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
def appi(since: str, until: str | None, fmt: Literal["csv", "json"]) -> None:
    """Print the APPI provision records of accesses in the window, oldest first.

    One record per access that provided personal data to a third party (any destination but
    INTERNAL and the group services the policy declares joint use): when, the recipient (name,
    address, representative, declared or not), the person (pseudonym), the items (element
    codes), the basis (consent, or opt-out with the provision's date), and for informative
    data given to a recipient that can link it, whether the person's consent was confirmed
    (APPI Art. 31). Streamed page by page: any window size. Kept three years (docs/records.md).
    """
    now = datetime.now(UTC)
    start = _moment(since, now, "--since")
    end = _moment(until, now, "--until") if until else now
    settings = load_settings()
    reader = open_reader(settings)
    try:
        records = appi_records(reader, start, end)
        for chunk in appi_csv(records) if fmt == "csv" else appi_json(records):
            click.echo(chunk, nl=False)
    finally:
        reader.close()
