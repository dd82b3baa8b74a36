"""`dua version`."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version

import click

from dua_schemas.avro_reader import NATIVE

DISTRIBUTIONS = ("data-usage-audit", "dua-schemas", "dua-producer", "dua-stream", "dua-sink")


@click.command()
def version() -> None:
    """Print the versions of dua and its component packages."""
    for name in DISTRIBUTIONS:
        try:
            found = dist_version(name)
        except PackageNotFoundError:
            found = "not installed"
        click.echo(f"{name} {found}")
    # optional: without it every record is read and written the same, only slower
    if NATIVE is not None:
        native = dist_version("dua-schemas-native")
        click.echo(f"dua-schemas-native {native} (native Avro readers and writers)")
    else:
        click.echo(
            "dua-schemas-native not installed "
            "(Avro readers and writers in Python; `make setup` builds it)"
        )
