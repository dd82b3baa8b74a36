"""The purposes x elements matrix of a policy, as aligned plain text."""

from __future__ import annotations

from typing import Final

from dua_policy.model import Policy

PERMITTED: Final = "x"
NOT_PERMITTED: Final = "."


def permission_matrix(policy: Policy) -> str:
    """One row per purpose, one column per element (numbered; the legend names them).

    The table itself is ASCII so columns line up in any terminal; Japanese labels are in the
    legends, one per line.
    """
    elements = policy.elements
    width = max((len(p.code) for p in policy.purposes), default=7)
    column = max(3, len(str(len(elements))) + 2)
    code_width = max((len(e.code) for e in elements), default=4)
    lines = [f"policy {policy.version} ({policy.source})", "", "elements:"]
    for number, element in enumerate(elements, start=1):
        kind = f"{element.category}, {element.sensitivity}"
        label = f"E{number}"
        code = element.code
        lines.append(f"  {label:<{column}}{code:<{code_width}}  {kind:<20}  {element.label.ja}")
    lines += ["", "purposes:"]
    for purpose in policy.purposes:
        lines.append(f"  {purpose.code:<{width}}  {purpose.label.ja} / {purpose.label.en}")
    header = (
        " " * width + "  " + "".join(f"E{n:<{column - 1}}" for n in range(1, len(elements) + 1))
    )
    lines += ["", f"matrix ({PERMITTED} = permitted):", header.rstrip()]
    for purpose in policy.purposes:
        marks = "".join(
            f"{PERMITTED if e.code in purpose.permitted else NOT_PERMITTED:<{column}}"
            for e in elements
        )
        note = "  (every element)" if purpose.permits_all else ""
        lines.append(f"{purpose.code:<{width}}  {marks.rstrip()}{note}")
    return "\n".join(lines)
