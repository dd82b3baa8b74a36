"""The fixed step ids of the processor: in logs, metric labels and DLQ records."""

from __future__ import annotations

from typing import Final, Literal

StepId = Literal["decode", "validate", "classify", "consent"]

DECODE: Final[StepId] = "decode"
VALIDATE: Final[StepId] = "validate"
CLASSIFY: Final[StepId] = "classify"
CONSENT: Final[StepId] = "consent"

# Reason codes the processor adds to those of `UndecodablePayload.reason`.
INVALID_EVENT: Final = "invalid_event"
CLASSIFY_FAILED: Final = "classify_failed"
