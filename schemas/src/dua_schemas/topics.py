"""The pipeline's topics: the names the SDK, the processor and the sink agree on.

The defaults are the shipped names; the application's `DUA_TOPIC_<ROLE>` settings, the SDK's
`topic_raw` / `topic_consent`, the processor's and the sink's topics all start from them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topics:
    """The five topics of the pipeline, by role."""

    raw: str = "dua.access.raw"  # DataAccessEvent, from the SDK
    consent: str = "dua.consent"  # ConsentChange, from the SDK
    tagged: str = "dua.access.tagged"  # TaggedAccessEvent, from the processor
    violations: str = "dua.violations"  # Violation, from the processor
    dlq: str = "dua.access.dlq"  # RejectedEvent: an input the processor could not take

    def names(self) -> tuple[str, ...]:
        """Every topic name, inputs first."""
        return (self.raw, self.consent, self.tagged, self.violations, self.dlq)
