"""The `broker.json` file that tells later commands which local broker runs and where."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from dua.kafka.errors import BrokerError


@dataclass(frozen=True, slots=True)
class BrokerRecord:
    """A started local broker: its process, address, Kafka version, files and client protocol."""

    pid: int
    bootstrap: str
    version: str
    log_path: Path
    properties: Path
    started_at: str
    security_protocol: str = "PLAINTEXT"

    @property
    def secured(self) -> bool:
        """Whether clients must log in (SASL) and are checked against ACLs."""
        return self.security_protocol != "PLAINTEXT"

    def to_json(self) -> str:
        fields = asdict(self)
        fields["log_path"] = str(self.log_path)
        fields["properties"] = str(self.properties)
        return json.dumps(fields, indent=2) + "\n"


def read_record(path: Path) -> BrokerRecord | None:
    """The record at `path`, or None when no broker was recorded there."""
    try:
        fields = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise BrokerError(f"{path} is unreadable ({exc}); delete it if no broker runs") from None
    try:
        return BrokerRecord(
            pid=int(fields["pid"]),
            bootstrap=str(fields["bootstrap"]),
            version=str(fields["version"]),
            log_path=Path(fields["log_path"]),
            properties=Path(fields["properties"]),
            started_at=str(fields["started_at"]),
            # Records written before `--secure` existed describe plaintext brokers.
            security_protocol=str(fields.get("security_protocol", "PLAINTEXT")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BrokerError(f"{path} lacks {exc}; delete it if no broker runs") from None


def write_record(path: Path, record: BrokerRecord) -> None:
    """Write the record atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(record.to_json(), encoding="utf-8")
    partial.replace(path)
