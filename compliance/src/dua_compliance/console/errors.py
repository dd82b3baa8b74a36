"""Errors of the console, under the project's root `DuaError`."""

from __future__ import annotations

from dua_schemas import DuaError


class ConsoleError(DuaError):
    """Root of the console's errors."""


class InvalidInput(ConsoleError):
    """A filter, form or action a user sent cannot be accepted; the message says why."""


class NotFound(ConsoleError):
    """The issue, event or user asked for does not exist."""


class LoginRefused(ConsoleError):
    """Wrong name or password, or too many recent failures."""
