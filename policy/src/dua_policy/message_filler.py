"""`MessageFiller`: a rule's message template filled in for one event, computing only the
placeholders the template uses.

A finding is made for every violating event (in the processor, a native path calls back for
each), so this is on the hot path: each template is parsed once into the placeholders it
names, and the texts that do not depend on the event (the element list of a step, a
purpose's description, the window) are made once and remembered.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import Final

from dua_policy.messages import describe_destination, describe_elements, describe_purpose
from dua_policy.model import Purpose
from dua_schemas import DataAccessEvent

# A placeholder's value from the event and the step's involved elements.
_Value = Callable[[DataAccessEvent, tuple[str, ...]], str]
# Remembered texts per distinct key before the memory starts again (codes are few; this
# bounds a stream of made-up purpose codes).
_MEMORY_LIMIT: Final = 4096


class MessageFiller:
    """Fills message templates for one policy's purposes and window."""

    __slots__ = ("_elements", "_purpose_texts", "_purposes", "_templates", "_values")

    def __init__(self, purposes: Mapping[str, Purpose], window_text: str) -> None:
        self._purposes = purposes
        self._purpose_texts: dict[str | None, str] = {None: describe_purpose(None, None)}
        self._elements: dict[tuple[str, ...], str] = {}
        self._templates: dict[str, tuple[tuple[str, _Value], ...]] = {}
        self._values: dict[str, _Value] = {
            "service": lambda event, _: event["service"],
            "purpose": lambda event, _: self._purpose(event["purpose"]),
            "elements": lambda _, involved: self._element_list(involved),
            "destination": lambda event, _: describe_destination(
                event["destination"]["kind"], event["destination"]["name"]
            ),
            "origin": lambda event, _: event["origin_service"] or event["service"],
            "operation": lambda event, _: event["operation"],
            "processing": lambda event, _: event["processing"],
            "actor": lambda event, _: f"{event['actor']['kind']} {event['actor']['id']}",
            "window": lambda _event, _involved: window_text,
            "record_count": lambda event, _: str(event["record_count"]),
        }

    def fill(self, template: str, event: DataAccessEvent, involved: tuple[str, ...]) -> str:
        """`template` with its placeholders replaced (validated at load: names only)."""
        parts = self._templates.get(template)
        if parts is None:
            parts = self._parse(template)
        return template.format_map({name: value(event, involved) for name, value in parts})

    def _parse(self, template: str) -> tuple[tuple[str, _Value], ...]:
        names = dict.fromkeys(name for _, name, _, _ in string.Formatter().parse(template) if name)
        parts = tuple((name, self._values[name]) for name in names)
        if len(self._templates) >= _MEMORY_LIMIT:
            self._templates.clear()
        self._templates[template] = parts
        return parts

    def _purpose(self, code: str | None) -> str:
        text = self._purpose_texts.get(code)
        if text is None:
            text = describe_purpose(code, self._purposes.get(code or ""))
            if len(self._purpose_texts) >= _MEMORY_LIMIT:
                self._purpose_texts.clear()
            self._purpose_texts[code] = text
        return text

    def _element_list(self, involved: tuple[str, ...]) -> str:
        text = self._elements.get(involved)
        if text is None:
            text = describe_elements(involved)
            if len(self._elements) >= _MEMORY_LIMIT:
                self._elements.clear()
            self._elements[involved] = text
        return text
