"""Sets of elements as the compiler computes them: catalog leaves plus "unknown codes"."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ElementSet:
    """Some catalog leaves (`known`), and whether codes the catalog lacks are in the set."""

    known: frozenset[str]
    unknown: bool

    @property
    def empty(self) -> bool:
        return not self.known and not self.unknown

    def intersect(self, other: ElementSet) -> ElementSet:
        return ElementSet(self.known & other.known, self.unknown and other.unknown)

    def union(self, other: ElementSet) -> ElementSet:
        return ElementSet(self.known | other.known, self.unknown or other.unknown)

    def complement(self, leaves: frozenset[str]) -> ElementSet:
        return ElementSet(leaves - self.known, not self.unknown)
