"""`dua records ropa`: the record of processing activities (GDPR Art. 30(1))."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import click

from dua.read_path import open_reader
from dua.records_wiring import RecordsView
from dua.settings import load_settings
from dua_compliance import processing_record, record_csv, record_json
from dua_schemas import EPOCH


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
def ropa(fmt: Literal["json", "csv"]) -> None:
    """Print the record of processing activities, built from the policy and the data map.

    One activity per purpose of the policy: its categories of data subjects and of personal
    data (declared, observed, and observed but undeclared), its recipients (the destinations
    seen, with what the policy declares about each) and the time limits for erasure (the audit
    tables' DUA_RETENTION_DAYS; 3 years for APPI provision records).
    """
    settings = load_settings()
    reader = open_reader(settings)
    try:
        view = RecordsView.of(settings, reader)
        data_map = view.data_map(EPOCH, datetime.now(UTC))
    finally:
        reader.close()
    record = processing_record(view.policy, data_map, settings.retention_days)
    click.echo(record_json(record) if fmt == "json" else record_csv(record), nl=False)
