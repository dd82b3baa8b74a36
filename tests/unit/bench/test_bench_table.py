"""The `make bench` table: ratios, number formatting and rows built from a run's figures."""

from __future__ import annotations

import pytest
from bench.__main__ import PEER, latency_rows, rows
from bench.table import HEADERS, Row, quantity, ratio_text, render


def test_ratio_is_figure_over_baseline() -> None:
    """A figure twice its baseline has ratio 2."""
    assert Row("m", 200.0, "ev/s", "base", 100.0).ratio == 2.0


def test_ratio_is_none_when_baseline_is_zero() -> None:
    """A zero baseline gives no ratio rather than a division error, shown as n/a."""
    row = Row("m", 5.0, "ev/s", "base", 0.0)
    assert row.ratio is None
    assert ratio_text(row.ratio) == "n/a"


def test_quantity_separates_thousands_and_keeps_decimals_for_small_figures() -> None:
    """Large figures read with separators and no decimals; small ones keep two decimals."""
    assert quantity(1234567.4, "ev/s") == "1,234,567 ev/s"
    assert quantity(3.14159, "µs/ev") == "3.14 µs/ev"


def test_render_aligns_a_markdown_table_with_every_row() -> None:
    """The table has a header, a rule and one line per row, all of the same width."""
    table = render(
        [
            Row("engine", 300_000, "ev/s", "decode + copy", 150_000),
            Row("e2e", 2_000, "ev/s", "ceiling", 40_000, "p50 10 ms, p99 90 ms"),
        ]
    )
    lines = table.splitlines()
    assert len(lines) == 4
    assert all(h in lines[0] for h in HEADERS)
    assert len({len(line) for line in lines}) == 1
    assert "2.00x" in lines[2]
    assert "0.05x" in lines[3]
    assert "p50 10 ms, p99 90 ms" in lines[3]


def test_rows_put_each_pipeline_size_beside_ceiling_and_peer() -> None:
    """Each pipeline size yields a ceiling row and a peer row with the pipeline's own figure."""
    figures = {
        "classify": {
            "events": 100,
            "engine_classify_per_s": 50,
            "baseline_decode_copy_per_s": 100,
        },
        "sdk": {"events": 100, "sdk_us_per_event": 6.0, "raw_us_per_event": 4.0},
        "pipeline": [
            {
                "events": n,
                "offered_per_s": 3000.0,
                "pipeline_per_s": 2000,
                "ceiling_per_s": 40_000,
                "peer_per_s": 10_000,
                "latency_p50_ms": 12.0,
                "latency_p99_ms": 80.0,
            }
            for n in (10_000, 100_000)
        ],
    }
    table = rows(figures)
    assert [r.ratio for r in table[:2]] == [0.5, 1.5]
    assert len(table) == 8  # and one latency row per size at 3,000/s (below)
    assert [r.measure.startswith("emit → queryable p99") for r in table[6:]] == [True, True]
    table = table[:6]
    assert [r.versus for r in table[3::2]] == [PEER, PEER]
    assert [r.ratio for r in table[2:]] == [0.05, 0.2, 0.05, 0.2]
    assert "100,000 ev" in table[4].measure


@pytest.mark.parametrize(
    ("key", "name", "versus"),
    [
        ("java_sdk", "Java SDK", "raw KafkaProducer.send, same bytes"),
        ("typescript_sdk", "TypeScript SDK", "raw @platformatic/kafka send, same bytes"),
        ("go_sdk", "Go SDK", "raw franz-go produce, same bytes"),
    ],
)
def test_rows_put_each_sdk_language_beside_its_raw_produce(
    key: str, name: str, versus: str
) -> None:
    """A language SDK's figures give a row comparing its emit with a raw produce of its bytes."""
    figures = {
        "classify": {"events": 1, "engine_classify_per_s": 1, "baseline_decode_copy_per_s": 1},
        "sdk": {"events": 1, "sdk_us_per_event": 1.0, "raw_us_per_event": 1.0},
        key: {"events": 50_000, "sdk_us_per_event": 15.0, "raw_us_per_event": 12.0},
        "pipeline": [],
    }
    (row,) = [row for row in rows(figures) if row.measure.startswith(name)]
    assert row.ratio == 1.25
    assert "50,000 events" in row.measure
    assert row.versus == versus


def test_rows_keep_the_sdk_languages_in_order_after_the_sink() -> None:
    """The language SDKs' rows follow the sink's row, Java, TypeScript then Go."""
    emit = {"events": 10, "sdk_us_per_event": 2.0, "raw_us_per_event": 1.0}
    figures = {
        "classify": {"events": 1, "engine_classify_per_s": 1, "baseline_decode_copy_per_s": 1},
        "sdk": {"events": 1, "sdk_us_per_event": 1.0, "raw_us_per_event": 1.0},
        "sink": {"rows": 10, "sink_rows_per_s": 1.0, "bulk_rows_per_s": 1.0},
        "go_sdk": emit,
        "java_sdk": emit,
        "typescript_sdk": emit,
        "pipeline": [],
    }
    measures = [row.measure.split(" emit")[0] for row in rows(figures)[2:]]
    assert measures == ["sink, 10 tagged events into chDB", "Java SDK", "TypeScript SDK", "Go SDK"]


def test_latency_rows_put_each_p99_beside_its_target() -> None:
    """Rates with a target give an emit → queryable row; at 3,000/s also the webhook's."""
    runs = [
        {
            "events": 6_000,
            "offered_per_s": 300.0,
            "latency_p50_ms": 400.0,
            "latency_p99_ms": 800.0,
            "webhook_alert_p99_ms": None,
        },
        {
            "events": 100_000,
            "offered_per_s": 3_000.0,
            "latency_p50_ms": 600.0,
            "latency_p99_ms": 1_200.0,
            "webhook_alerts": 4,
            "webhook_alert_p50_ms": 900.0,
            "webhook_alert_p99_ms": 2_000.0,
        },
        {"events": 100_000, "offered_per_s": 20_000.0, "latency_p99_ms": 9_000.0},
    ]
    queryable_300, queryable_3000, webhook = latency_rows(runs)
    assert (queryable_300.ratio, queryable_3000.ratio) == (0.8, 0.8)
    assert webhook.ratio == 2.0
    assert "4 rule/service alerts" in webhook.detail
