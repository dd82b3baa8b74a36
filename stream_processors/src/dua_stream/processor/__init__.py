"""The stream processor: raw access events and consent changes in; tagged events, violations
and rejected inputs out, under the policy in force. Importing this package does not import
Faust; `run_processor` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dua_stream.processor.batch import BatchProcessor, BatchResult, InputMessage
from dua_stream.processor.codec import RecordCodec
from dua_stream.processor.config import ProcessorConfig, ProcessorTopics, Tuning, logging_level
from dua_stream.processor.decode import decode_access, decode_consent
from dua_stream.processor.deliver import ProducerFailed
from dua_stream.processor.metrics import MetricName, ProcessorMetrics
from dua_stream.processor.reject import Rejection, SourcePosition, rejected_record
from dua_stream.processor.reload import PolicyReloader
from dua_stream.processor.route import Output, rejection_output, verdict_outputs
from dua_stream.processor.state import StateChange, TableState, changelog_topics

if TYPE_CHECKING:
    from dua_stream.processor.worker import run_processor as run_processor


def __getattr__(name: str) -> Any:
    # `run_processor` pulls in Faust: load it on first use only.
    if name == "run_processor":
        from dua_stream.processor.worker import run_processor  # noqa: PLC0415

        return run_processor
    raise AttributeError(name)


__all__ = [
    "BatchProcessor",
    "BatchResult",
    "InputMessage",
    "MetricName",
    "Output",
    "PolicyReloader",
    "ProcessorConfig",
    "ProcessorMetrics",
    "ProcessorTopics",
    "ProducerFailed",
    "RecordCodec",
    "Rejection",
    "SourcePosition",
    "StateChange",
    "TableState",
    "Tuning",
    "changelog_topics",
    "decode_access",
    "decode_consent",
    "logging_level",
    "rejected_record",
    "rejection_output",
    "run_processor",
    "verdict_outputs",
]
