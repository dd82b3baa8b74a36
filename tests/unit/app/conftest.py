"""Fixtures of the application's unit tests."""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest

from dua.settings import Settings


@pytest.fixture(scope="session")
def written_defaults() -> dict[str, ast.expr]:
    """Each setting's default as the source of `Settings` writes it (its `Field`'s first
    argument), so a test can tell a default taken from its owner from one restated."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(Settings)))
    written: dict[str, ast.expr] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(node.value, ast.Call)
            and node.value.args
        ):
            written[node.target.id] = node.value.args[0]
    return written
