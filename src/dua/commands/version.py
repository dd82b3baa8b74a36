"""`dua version`."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version

import click

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
