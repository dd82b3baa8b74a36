"""Finds the external programs the local broker needs, with an install hint when one is missing."""

from __future__ import annotations

import shutil

from dua.kafka.errors import MissingTool

# Kafka 4.x brokers need Java 17+; Maven resolves the broker's jars from Maven Central.
INSTALL_HINTS: dict[str, str] = {
    "java": "install a Java 17 runtime (apt-get install openjdk-17-jre-headless)",
    "mvn": "install Apache Maven (apt-get install maven), which fetches the Kafka jars",
}


def require_tool(name: str) -> str:
    """Return the full path of `name` on PATH, or raise `MissingTool` saying what to install."""
    found = shutil.which(name)
    if found is None:
        raise MissingTool(name, INSTALL_HINTS.get(name, f"install `{name}`"))
    return found
