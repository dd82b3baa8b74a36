"""A processor worker with the per-event work taken out: the benchmark's *I/O bound*.

Run by `bench/pipeline_processor.py`, never by the product: `python -m bench.io_bound_worker
--worker-index I --outputs-per-event R` with the same `DUA_*` settings as the processor. It is
the real worker (`run_processor`: Faust, the batching consumer, the tables, the producer and
its delivery reports, acknowledgements and commits), except that a batch is not decoded,
validated, classified or encoded: each raw message is copied as is to the tagged topic, and
`R - 1` more copies per message on average go to the violations topic, so that the broker
and the producer move as many messages as the real processor does (its tagged events,
violations and changelog records per input). What it reaches is the most any per-event work
could leave of the ceiling on this machine with this pipeline around it.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from dua.commands.processor_run import prepare_topics, processor_config
from dua.settings import load_settings
from dua_stream.processor import BatchProcessor, run_processor
from dua_stream.processor.batch import BatchResult, InputMessage
from dua_stream.processor.route import POLICY_VERSION_HEADER, Headers, Output

_HEADERS: Headers = [(POLICY_VERSION_HEADER, b"io-bound")]


def copy_through(
    tagged: str, violations: str, outputs_per_event: float
) -> Callable[
    [BatchProcessor, Sequence[InputMessage], Sequence[InputMessage], datetime], BatchResult
]:
    """A `BatchProcessor.process` that copies each raw message instead of processing it."""
    extra = max(outputs_per_event - 1.0, 0.0)

    def process(
        _self: BatchProcessor,
        _consent: Sequence[InputMessage],
        raw: Sequence[InputMessage],
        _now: datetime,
    ) -> BatchResult:
        result = BatchResult(policy_version="io-bound")
        outputs = result.outputs
        owed = 0.0
        for message in raw:
            outputs.append(Output(tagged, message.key, message.value, _HEADERS))
            owed += extra
            while owed >= 1.0:  # spread evenly: R = 1.86 gives 86 extra copies per 100
                owed -= 1.0
                outputs.append(Output(violations, message.key, message.value, _HEADERS))
        return result

    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker-index", type=int, required=True)
    parser.add_argument("--outputs-per-event", type=float, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = load_settings()
    config = processor_config(
        settings, prepare_topics(settings), log_level="warn", worker_index=args.worker_index
    )
    topics = config.topics
    # the measurement's one substitution; everything else is the product's worker
    BatchProcessor.process = copy_through(  # type: ignore[method-assign, assignment]
        topics.tagged, topics.violations, args.outputs_per_event
    )
    run_processor(config)


if __name__ == "__main__":
    main()
