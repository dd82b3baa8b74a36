"""`dua report --html FILE`: one self-contained page (inline CSS and SVG, nothing fetched)."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

from dua_compliance.report_data import DATA_CATEGORIES, SEVERITY_ORDER, ReportData
from dua_compliance.svg_charts import heat_map, horizontal_bars, stacked_columns

# Nothing may load from anywhere: the page is one file that works offline.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1000px; color: #1b1b1b; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
.window { color: #555; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 0.8rem; margin: 1.2rem 0; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 0.6rem 1rem; min-width: 8rem; }
.card b { display: block; font-size: 1.4rem; }
.card.alert b { color: #8e0b12; }
section { margin: 1.8rem 0; }
table { border-collapse: collapse; }
td, th { padding: 0.2rem 0.8rem; border-bottom: 1px solid #eee; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
"""


def render_html(data: ReportData) -> str:
    """The report as one HTML document."""
    window = f"{data.since:%Y-%m-%d %H:%M} - {data.until:%Y-%m-%d %H:%M} UTC"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_POLICY}">
<title>Data usage audit — {escape(window)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>Data usage audit</h1>
<p class="window">{escape(window)}</p>
{render_sections(data)}
</body>
</html>
"""


def render_sections(data: ReportData) -> str:
    """The report's cards and charts, to embed in a page (the console's overview)."""
    t = data.totals
    cards = [
        ("access events", t.events, False),
        ("services", t.services, False),
        ("violations", t.violations, t.violations > 0),
        ("critical", t.critical, t.critical > 0),
        ("shadow findings", t.shadow_findings, False),
        ("rejected inputs", t.rejected, t.rejected > 0),
    ]
    card_html = "".join(
        f'<div class="card{" alert" if alert else ""}">{escape(label)}<b>{value}</b></div>'
        for label, value, alert in cards
    )
    purposes = sorted(data.matrix, key=lambda p: -sum(data.matrix[p].values()))
    matrix_svg = heat_map(
        purposes,
        DATA_CATEGORIES,
        [[data.matrix[p][c] for c in DATA_CATEGORIES] for p in purposes],
        "Element accesses by purpose category x data category",
    )
    days = _days(data.since.date(), data.until.date())
    series = {
        severity: [data.violations_by_day.get(day, {}).get(severity, 0) for day in days]
        for severity in SEVERITY_ORDER
    }
    time_svg = stacked_columns(days, series, "Violations per day, by severity")
    services_svg = horizontal_bars(
        [s for s, _, _ in data.top_services],
        [v for _, _, v in data.top_services],
        "Top services by violations",
    )
    rules_svg = horizontal_bars(
        [r for r, _, _, _ in data.top_rules],
        [n for _, _, n, _ in data.top_rules],
        "Top rules by violations",
    )
    service_table = _table(
        ("service", "accesses", "violations"),
        [(s, e, v) for s, e, v in data.top_services],
    )
    rule_table = _table(
        ("rule", "severity", "violations", "services"),
        [(r, sev, n, svc) for r, sev, n, svc in data.top_rules],
    )
    late_table = (
        _table(
            ("rule", "service", "violations", "longest delay (ms)"),
            [(r, svc, n, delay) for r, svc, n, delay in data.found_late],
        )
        if data.found_late
        else "<p>None: every violation was found when its access was processed.</p>"
    )
    return f"""<div class="cards">{card_html}</div>
<section id="matrix">{matrix_svg}</section>
<section id="over-time">{time_svg}</section>
<section id="services">{services_svg}{service_table}</section>
<section id="rules">{rules_svg}{rule_table}</section>
<section id="found-late"><h2>Found late</h2>
<p>Violations a consent change showed after the access was processed: it arrived after the
processor's grace (a producer that spooled it). Each keeps the id it would have had on time.</p>
{late_table}</section>"""


def _table(headers: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    """A plain table; numbers right-aligned."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{v}</td>' if isinstance(v, int) else f"<td>{escape(str(v))}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _days(first: date, last: date) -> list[date]:
    count = (last - first).days + 1
    return [first + timedelta(days=i) for i in range(max(count, 1))]
