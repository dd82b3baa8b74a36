"""`ShapeCache`: a client's call-site shapes, validated and pre-encoded once each.

Keys are the arguments a call site fixes (`AuditClient.emit` builds them); a shape holds the
validated template record and the encoder's pre-encoded form of its fixed fields.
"""

from __future__ import annotations

from typing import Any, Final

from dua_producer.access_shape import SHAPE_DEFAULTS, AccessShape, access_template
from dua_producer.config import ProducerConfig
from dua_producer.event_layout import EventEncoder, event_encoder
from dua_schemas import WireCodec

CACHE_LIMIT: Final = 4096  # distinct call-site shapes kept; a service has a few dozen


class ShapeCache:
    """Shapes by key, built on a miss; `encoder` encodes events of these shapes."""

    __slots__ = ("_config", "_shapes", "encoder")

    def __init__(self, config: ProducerConfig, codec: WireCodec) -> None:
        self._config = config
        self._shapes: dict[tuple[Any, ...], AccessShape] = {}
        self.encoder: EventEncoder = event_encoder(
            codec, self.template(elements=("user.account.id",))
        )

    def get(self, key: tuple[Any, ...]) -> AccessShape | None:
        """The shape of `key` if known; TypeError if the key holds unhashable values."""
        return self._shapes.get(key)

    def build(self, key: tuple[Any, ...] | None, **fields: Any) -> AccessShape:
        """Validate and pre-encode a shape (`InvalidEvent` if it breaks the contract)."""
        template = self.template(**fields)
        shape = AccessShape(template, self.encoder.prepare(template))
        if key is not None:
            if len(self._shapes) >= CACHE_LIMIT:
                self._shapes.clear()  # cheaper than LRU bookkeeping; refilled on next calls
            self._shapes[key] = shape
        return shape

    def template(self, **fields: Any) -> dict[str, Any]:
        """A validated template record with this client's service and default actor."""
        config = self._config
        actor_kind = fields.pop("actor_kind", None) or config.actor_kind
        actor_id = fields.pop("actor_id", None) or config.actor
        return access_template(
            service=config.service,
            actor_kind=actor_kind,
            actor_id=actor_id,
            **{**SHAPE_DEFAULTS, **fields},
        )
