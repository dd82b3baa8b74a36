"""Locates the broker's files (pom.xml, the server.properties templates, log4j2.properties).

In a wheel they are package data under `dua/kafka/assets` (the root pyproject force-includes
`deploy/kafka` there); in an editable install they are read from the repository's
`deploy/kafka`, found by walking up from this module.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from dua.kafka.errors import BrokerError

ASSET_NAMES = ("pom.xml", "server.properties", "server-secure.properties", "log4j2.properties")


def asset_dir() -> Path:
    """Return the directory holding the broker's pom and configuration templates."""
    packaged = Path(str(files("dua.kafka").joinpath("assets")))
    candidates = [packaged]
    candidates += [parent / "deploy" / "kafka" for parent in Path(__file__).resolve().parents]
    for candidate in candidates:
        if all((candidate / name).is_file() for name in ASSET_NAMES):
            return candidate
    raise BrokerError(
        "the Kafka broker files (deploy/kafka: " + ", ".join(ASSET_NAMES) + ") were not found "
        "in the installed package nor in a source checkout; reinstall data-usage-audit"
    )
