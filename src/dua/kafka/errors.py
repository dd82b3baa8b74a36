"""What can go wrong while setting up, running or using the local Kafka broker."""

from __future__ import annotations

from dua_schemas import DuaError


class BrokerError(DuaError):
    """The local broker could not be resolved, formatted, started or stopped."""


class MissingTool(BrokerError):
    """A program the local broker needs (java, mvn) is not on PATH; `hint` says what to install."""

    def __init__(self, tool: str, hint: str) -> None:
        self.tool = tool
        self.hint = hint
        super().__init__(f"`{tool}` was not found on PATH: {hint}")


class TopicError(DuaError):
    """Kafka refused to create or describe a topic."""
