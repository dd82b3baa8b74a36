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
        if hasattr(NATIVE, "AccessPath"):
            parts = "native Avro readers and writers, the processor's native access path"
        else:  # a build older than this code: `native_build` warns and uses Python
            parts = "native Avro readers and writers; older than this code, rebuild it"
        click.echo(f"dua-schemas-native {native} ({parts})")
    else:
        click.echo(
            "dua-schemas-native not installed "
            "(Avro and the processor's per-event work in Python; `make setup` builds it)"
        )
