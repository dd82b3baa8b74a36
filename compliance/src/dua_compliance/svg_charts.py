"""Small SVG charts drawn by our own code: no library, no script, no external reference.

Each function returns an `<svg>` element to inline in HTML (no xmlns needed there).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from html import escape

SEVERITY_COLOURS = {"critical": "#8e0b12", "high": "#d9480f", "medium": "#f2a20c", "low": "#7a8b99"}
BAR_COLOUR = "#2f6f9f"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def heat_map(
    rows: Sequence[str], columns: Sequence[str], values: Sequence[Sequence[int]], title: str
) -> str:
    """A grid of cells shaded by value, each labelled with its number."""
    cell_w, cell_h, left, top = 110, 30, 190, 44
    width = left + cell_w * len(columns) + 10
    height = top + cell_h * max(len(rows), 1) + 10
    peak = max((v for row in values for v in row), default=0) or 1
    parts = [_open(width, height, title), _title(title)]
    for j, column in enumerate(columns):
        x = left + j * cell_w + cell_w / 2
        parts.append(
            f'<text x="{x:.0f}" y="{top - 8}" text-anchor="middle" {FONT}>{escape(column)}</text>'
        )
    for i, row in enumerate(rows):
        y = top + i * cell_h
        parts.append(_label(left - 8, y + cell_h / 2 + 4, _short(row, 28), "end"))
        for j, value in enumerate(values[i]):
            share = value / peak
            x = left + j * cell_w
            fill = _blend("#f4f7fb", "#0b3d91", share)
            ink = "#ffffff" if share > 0.55 else "#1b1b1b"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{fill}">'
                f"<title>{escape(row)} x {escape(columns[j])}: {value}</title></rect>"
            )
            parts.append(
                f'<text x="{x + cell_w / 2:.0f}" y="{y + cell_h / 2 + 4:.0f}" text-anchor="middle" '
                f'fill="{ink}" {FONT}>{value}</text>'
            )
    if not rows:
        parts.append(_empty(width, height))
    parts.append("</svg>")
    return "".join(parts)


def stacked_columns(days: Sequence[date], series: Mapping[str, Sequence[int]], title: str) -> str:
    """One column per day, stacked by series (severity), with a legend."""
    left, top, plot_h, bottom = 50, 40, 180, 40
    # At most 40 px a day, and never wider than 720 px however long the window.
    column_w = min(40.0, 720 / max(len(days), 1))
    width = left + column_w * max(len(days), 1) + 150
    height = top + plot_h + bottom
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    peak = max(totals, default=0) or 1
    parts = [_open(width, height, title), _title(title)]
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + column_w * len(days):.0f}" '
        f'y2="{top + plot_h}" stroke="#999"/>'
    )
    parts.append(f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" {FONT}>{peak}</text>')
    parts.append(f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" {FONT}>0</text>')
    gap = 2.0 if column_w >= 6 else 0.0
    # A date label ("11-29" needs ~34 px) on every column that has room for one, else on
    # every n-th; the last day is always labelled, so the newest column is never unnamed.
    every = max(math.ceil(36 / column_w), 1)
    for i, day in enumerate(days):
        x = left + i * column_w
        y: float = top + plot_h
        for name, values in series.items():
            h = plot_h * values[i] / peak
            if h <= 0:
                continue
            y -= h
            parts.append(
                f'<rect x="{x + gap / 2:.1f}" y="{y:.1f}" '
                f'width="{column_w - gap:.1f}" '
                f'height="{h:.1f}" fill="{SEVERITY_COLOURS.get(name, BAR_COLOUR)}">'
                f"<title>{day.isoformat()} {escape(name)}: {values[i]}</title></rect>"
            )
        if i % every == 0 or i == len(days) - 1:
            parts.append(
                f'<text x="{x + column_w / 2:.0f}" y="{top + plot_h + 16}" text-anchor="middle" '
                f"{FONT}>{day.strftime('%m-%d')}</text>"
            )
    legend_x = left + column_w * max(len(days), 1) + 20
    for k, name in enumerate(series):
        y = top + k * 20
        parts.append(
            f'<rect x="{legend_x:.0f}" y="{y}" width="12" height="12" '
            f'fill="{SEVERITY_COLOURS.get(name, BAR_COLOUR)}"/>'
        )
        parts.append(f'<text x="{legend_x + 18:.0f}" y="{y + 11}" {FONT}>{escape(name)}</text>')
    if not days:
        parts.append(_empty(width, height))
    parts.append("</svg>")
    return "".join(parts)


def horizontal_bars(labels: Sequence[str], values: Sequence[int], title: str) -> str:
    """One bar per label, longest first as given."""
    left, top, bar_h, plot_w = 230, 36, 22, 360
    width = left + plot_w + 70
    height = top + bar_h * max(len(labels), 1) + 10
    peak = max(values, default=0) or 1
    parts = [_open(width, height, title), _title(title)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * bar_h
        w = plot_w * value / peak
        parts.append(_label(left - 8, y + bar_h / 2 + 4, _short(label), "end"))
        parts.append(
            f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 4}" '
            f'fill="{BAR_COLOUR}"><title>{escape(label)}: {value}</title></rect>'
        )
        parts.append(
            f'<text x="{left + w + 6:.1f}" y="{y + bar_h / 2 + 4:.0f}" {FONT}>{value}</text>'
        )
    if not labels:
        parts.append(_empty(width, height))
    parts.append("</svg>")
    return "".join(parts)


def _open(width: float, height: float, title: str) -> str:
    return (
        f'<svg width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="{escape(title)}">'
    )


def _title(title: str) -> str:
    return (
        '<text x="4" y="16" font-family="system-ui, sans-serif" font-size="14" '
        f'font-weight="600">{escape(title)}</text>'
    )


def _short(text: str, limit: int = 30) -> str:
    """Long labels are cut (the bar's tooltip keeps the whole text)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label(x: float, y: float, text: str, anchor: str) -> str:
    return f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="{anchor}" {FONT}>{escape(text)}</text>'


def _empty(width: float, height: float) -> str:
    return (
        f'<text x="{width / 2:.0f}" y="{height / 2 + 10:.0f}" text-anchor="middle" fill="#777" '
        f"{FONT}>no data in this window</text>"
    )


def _blend(low: str, high: str, share: float) -> str:
    """A colour `share` of the way from `low` to `high`."""
    share = min(max(share, 0.0), 1.0)
    a = [int(low[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(high[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02x}" for x, y in zip(a, b, strict=True))
