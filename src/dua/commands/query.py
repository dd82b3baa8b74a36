"""`dua query`: ad-hoc SQL or a saved question, as a table, CSV or JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

import click

from dua.read_path import open_reader
from dua.settings import load_settings
from dua_compliance import OutputFormat, render_result, run_saved, saved_queries, window_start


@click.command()
@click.argument("sql", required=False)
@click.option("--saved", "saved_name", metavar="NAME", help="Run a query of the library.")
@click.option(
    "--since", default="7d", show_default=True, help="Window of a saved query: 12h, 7d, 2w…"
)
@click.option("--list", "list_queries", is_flag=True, help="List the saved queries.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(get_args(OutputFormat)),
    default="table",
    show_default=True,
)
def query(
    sql: str | None, saved_name: str | None, since: str, list_queries: bool, fmt: OutputFormat
) -> None:
    """Run read-only SQL against the audit tables, or a saved question (--saved NAME).

    Works while `dua run sink` owns the embedded engine: the query goes through the sink's
    read-only endpoint then, and write statements are refused.
    """
    if list_queries:
        for saved in saved_queries():
            click.echo(f"{saved.name:<28} {saved.description}")
        return
    if (sql is None) == (saved_name is None):
        raise click.UsageError("give either SQL or --saved NAME (see --list)")
    settings = load_settings()
    reader = open_reader(settings)
    try:
        if saved_name is not None:
            result = run_saved(reader, saved_name, window_start(since, datetime.now(UTC)))
        else:
            assert sql is not None
            result = reader.query(sql)
    finally:
        reader.close()
    click.echo(render_result(result, fmt), nl=False)
