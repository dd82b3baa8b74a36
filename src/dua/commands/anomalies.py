"""`dua anomalies`: hours of unusual access volume against their seasonal baseline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

import click

from dua.read_path import open_reader
from dua.records_wiring import RecordsView
from dua.settings import load_settings
from dua_compliance import OutputFormat, anomalies_result, render_result, window_start


@click.command()
@click.option("--since", default="24h", show_default=True, help="Hours to judge: 24h, 7d…")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(get_args(OutputFormat)),
    default="table",
    show_default=True,
)
def anomalies(since: str, fmt: OutputFormat) -> None:
    """List the hours whose accesses or distinct subjects rose far above their usual level.

    Per service x purpose category x data category, each hour is scored against the same hour
    of day over the past DUA_ANOMALY_BASELINE_DAYS days (median and median absolute deviation);
    hours scoring above DUA_ANOMALY_THRESHOLD with at least DUA_ANOMALY_MIN_ACCESSES accesses
    are listed, the highest score first.
    """
    settings = load_settings()
    now = datetime.now(UTC)
    reader = open_reader(settings)
    try:
        found = RecordsView.of(settings, reader).anomalies(window_start(since, now), now)
    finally:
        reader.close()
    if fmt == "table":
        click.echo(f"{len(found)} volume anomalies since {since} ago")
    click.echo(render_result(anomalies_result(found), fmt), nl=False)
