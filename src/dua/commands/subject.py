"""`dua subject RAW_ID`: every access to one person's data (a subject-access request)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

import click

from dua.read_path import open_reader
from dua.settings import load_settings
from dua_compliance import OutputFormat, render_result, subject_accesses, window_start
from dua_producer import pseudonymize
from dua_schemas import EPOCH, ConfigError


@click.command()
@click.argument("raw_id")
@click.option(
    "--since", default=None, help="Only accesses in this window (12h, 30d…); default: all."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(get_args(OutputFormat)),
    default="table",
    show_default=True,
)
def subject(raw_id: str, since: str | None, fmt: OutputFormat) -> None:
    """List every access to the data of the person RAW_ID identifies.

    The raw id is turned into its pseudonym with DUA_SUBJECT_KEY, exactly as the SDK did in
    the services; only the pseudonym is sent to ClickHouse, and the raw id is never printed.
    """
    settings = load_settings()
    if settings.subject_key is None:
        raise ConfigError(
            "DUA_SUBJECT_KEY is not set: it is needed to find the subject's pseudonym"
        )
    pseudonym = pseudonymize(raw_id, settings.subject_key.get_secret_value())
    start = window_start(since, datetime.now(UTC)) if since else EPOCH
    reader = open_reader(settings)
    try:
        result = subject_accesses(reader, pseudonym, start)
    finally:
        reader.close()
    if fmt == "table":
        click.echo(f"subject pseudonym {pseudonym}: {len(result.rows)} accesses")
    click.echo(render_result(result, fmt), nl=False)
