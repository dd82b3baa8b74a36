"""`dua report`'s terminal summary."""

from __future__ import annotations

from dua_compliance.report_data import DATA_CATEGORIES, SEVERITY_ORDER, ReportData


def render_text(data: ReportData) -> str:
    """A short plain-text summary of the report window."""
    t = data.totals
    lines = [
        f"Data usage audit, {data.since:%Y-%m-%d %H:%M} - {data.until:%Y-%m-%d %H:%M} UTC",
        "",
        f"  access events    {t.events:>10}   across {t.services} services",
        f"  violations       {t.violations:>10}   ({t.critical} critical)",
        f"  shadow findings  {t.shadow_findings:>10}",
        f"  rejected inputs  {t.rejected:>10}",
        "",
        "Element accesses by purpose category:",
        "  " + "purpose category".ljust(22) + "".join(c.rjust(13) for c in DATA_CATEGORIES),
    ]
    for purpose, counts in sorted(data.matrix.items(), key=lambda kv: -sum(kv[1].values())):
        lines.append(
            "  " + purpose.ljust(22) + "".join(str(counts[c]).rjust(13) for c in DATA_CATEGORIES)
        )
    by_severity = {
        s: sum(day.get(s, 0) for day in data.violations_by_day.values()) for s in SEVERITY_ORDER
    }
    lines += [
        "",
        "Violations by severity: " + ", ".join(f"{s} {n}" for s, n in by_severity.items()),
    ]
    if data.top_rules:
        lines += ["", "Top rules:"]
        lines += [
            f"  {n:>8}  {rule} ({sev}, {svc} services)" for rule, sev, n, svc in data.top_rules
        ]
    if data.top_services:
        lines += ["", "Top services (violations / accesses):"]
        lines += [f"  {v:>8} / {e:<8} {service}" for service, e, v in data.top_services]
    if data.found_late:
        lines += ["", "Found late (a consent change arrived after the processor's grace):"]
        lines += [
            f"  {n:>8}  {rule} at {service} (up to {delay / 1000:,.1f} s late)"
            for rule, service, n, delay in data.found_late
        ]
    return "\n".join(lines) + "\n"
