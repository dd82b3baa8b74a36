"""The data map as one self-contained HTML file (`dua datamap --format html`)."""

from __future__ import annotations

from html import escape

from dua_compliance.datamap import MAP_COLUMNS, DataMap
from dua_compliance.result_format import cell_text

_STYLE = (
    "body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
    "th,td{border:1px solid #ccc;padding:2px 6px;text-align:left}"
    "tr.undeclared td{background:#fde2e2}tr.new td{background:#fff4cc}"
    "tr.unseen td{color:#666;font-style:italic}"
)


def render_datamap_html(data_map: DataMap) -> str:
    """A page with the drift counts and the map, drifted rows highlighted."""
    counts = data_map.drift_counts()
    head = "".join(f"<th scope=col>{escape(name)}</th>" for name in MAP_COLUMNS)
    rows = []
    for entry in data_map.entries:
        css = " ".join(entry.drift)
        cells = "".join(f"<td>{escape(cell_text(value))}</td>" for value in entry.row())
        rows.append(f'<tr class="{escape(css)}">{cells}</tr>')
    summary = (
        f"{counts['undeclared']} undeclared, {counts['new']} new in "
        f"{data_map.windows.new_days} days, {counts['unseen']} declared but unseen in "
        f"{data_map.windows.unseen_days} days"
    )
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>Data map — dua</title><style>{_STYLE}</style></head><body>"
        f"<h1>Observed data map</h1><p>As of {escape(cell_text(data_map.now))}. "
        f"Drift: {escape(summary)}.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "</body></html>\n"
    )
