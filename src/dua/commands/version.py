"""`dua version`."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version

import click

from dua_schemas.avro_reader import NATIVE
from dua_stream.processor.fastpath import NATIVE as STREAM_NATIVE

DISTRIBUTIONS = (
    "data-usage-audit",
    "dua-schemas",
    "dua-policy",
    "dua-producer",
    "dua-stream",
    "dua-sink",
    "dua-compliance",
)


@click.command()
def version() -> None:
    """Print the versions of dua and its component packages."""
    for name in DISTRIBUTIONS:
        try:
            found = dist_version(name)
        except PackageNotFoundError:
            found = "not installed"
        click.echo(f"{name} {found}")
    # optional: without them every record is read, written and classified the same, slower
    if NATIVE is not None:
        native = dist_version("dua-schemas-native")
        click.echo(f"dua-schemas-native {native} (native Avro readers and writers)")
    else:
        click.echo("dua-schemas-native not installed (Avro in Python; `make setup` builds it)")
    if STREAM_NATIVE is not None:
        stream = dist_version("dua-stream-native")
        click.echo(f"dua-stream-native {stream} (the processor's native access path)")
    else:
        click.echo(
            "dua-stream-native not installed "
            "(the processor's per-event work in Python; `make setup` builds it)"
        )
