"""Renders the broker's `server.properties` from the template in `deploy/kafka`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

from dua.kafka.errors import BrokerError
from dua.kafka.locator import asset_dir


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """The values that differ between two local brokers: address, ports, data directory."""

    host: str
    broker_port: int
    controller_port: int
    log_dir: Path
    node_id: int = 1

    def __post_init__(self) -> None:
        for name, port in (("broker", self.broker_port), ("controller", self.controller_port)):
            if not 0 < port < 65536:
                raise BrokerError(f"{name} port {port} is not a TCP port (1-65535)")
        if self.broker_port == self.controller_port:
            raise BrokerError(f"broker and controller cannot share port {self.broker_port}")

    @property
    def bootstrap(self) -> str:
        """What clients pass as `bootstrap.servers`."""
        return f"{self.host}:{self.broker_port}"


def render_server_properties(config: BrokerConfig, template: str | None = None) -> str:
    """Fill the `${...}` placeholders of the template (the shipped one unless given)."""
    if template is None:
        template = (asset_dir() / "server.properties").read_text(encoding="utf-8")
    try:
        return Template(template).substitute(
            host=config.host,
            broker_port=config.broker_port,
            controller_port=config.controller_port,
            log_dir=config.log_dir.as_posix(),
            node_id=config.node_id,
        )
    except (KeyError, ValueError) as exc:
        raise BrokerError(f"server.properties template has an unknown placeholder: {exc}") from None
