"""The one table `make bench` prints: each figure beside its baseline or peer, and the ratio."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

HEADERS = ("measure", "figure", "baseline / peer (same run)", "its figure", "ratio")


@dataclass(frozen=True, slots=True)
class Row:
    """One measured figure and what it is compared with."""

    measure: str
    figure: float
    unit: str
    versus: str
    versus_figure: float
    detail: str = ""  # shown after the figure, e.g. latency percentiles

    @property
    def ratio(self) -> float | None:
        """figure / baseline; None when the baseline is zero (nothing to divide by)."""
        if self.versus_figure == 0:
            return None
        return self.figure / self.versus_figure


def quantity(value: float, unit: str) -> str:
    """A figure with its unit: thousands separated, two decimals below 100."""
    text = f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{text} {unit}"


def ratio_text(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}x"


def render(rows: Sequence[Row]) -> str:
    """The rows as an aligned plain-text table (a Markdown table: it pastes into docs)."""
    cells = [list(HEADERS)]
    for row in rows:
        figure = quantity(row.figure, row.unit) + (f" ({row.detail})" if row.detail else "")
        cells.append(
            [
                row.measure,
                figure,
                row.versus,
                quantity(row.versus_figure, row.unit),
                ratio_text(row.ratio),
            ]
        )
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
