"""`PolicyError`: a policy file that cannot be used, with every problem and where it is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dua_schemas import DuaError


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a policy document: the file, the path inside it, what is wrong."""

    source: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.path}" if self.path else self.source
        return f"{where}: {self.message}"


class PolicyError(DuaError):
    """The policy does not load; `problems` lists all of them, not just the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n  ".join(str(p) for p in self.problems)
        super().__init__(f"invalid policy ({count} {noun}):\n  {lines}")
