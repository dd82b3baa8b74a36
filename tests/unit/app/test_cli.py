"""The dua command: help on every registered command, and errors as one clear line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from dua.cli import COMMANDS, cli
from dua_schemas.avro_reader import NATIVE
from dua_stream.processor.fastpath import NATIVE as STREAM_NATIVE


def test_top_level_help_lists_every_command() -> None:
    """dua --help names each registered subcommand."""
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name: str) -> None:
    """dua <command> --help works and describes the command."""
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_version_names_every_component() -> None:
    """dua version prints a version line for the app and each component."""
    result = CliRunner().invoke(cli, ["version"])
    assert result.exit_code == 0
    for dist in (
        "data-usage-audit",
        "dua-schemas",
        "dua-policy",
        "dua-producer",
        "dua-stream",
        "dua-sink",
        "dua-compliance",
    ):
        assert f"{dist} 0.1.0" in result.output
    native = "dua-schemas-native 0.1.0 (native Avro readers and writers)"
    assert (native in result.output) == (NATIVE is not None), result.output
    assert ("dua-schemas-native not installed" in result.output) == (NATIVE is None)
    stream = "dua-stream-native 0.1.0 (the processor's native access path)"
    assert (stream in result.output) == (STREAM_NATIVE is not None), result.output
    assert ("dua-stream-native not installed" in result.output) == (STREAM_NATIVE is None)
