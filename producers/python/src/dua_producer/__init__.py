"""dua-producer: the SDK services embed to report each access to personal data.

    from dua_producer import AuditClient, ProducerConfig

    audit = AuditClient(ProducerConfig.from_env())
    audit.emit(["user.name", "user.contact.email"], "service.inquiry_response", subject=user_id)

Events are validated and their subject pseudonymized before anything leaves the process,
encoded in the contract's wire format, and delivered to Kafka; what Kafka does not take goes
to a durable local spool and is replayed. See the package README.
"""

from dua_producer.client import AuditClient, ClientClosed
from dua_producer.config import ProducerConfig
from dua_producer.default_client import default_client, set_default_client
from dua_producer.kafka_transport import KafkaTransport
from dua_producer.memory_transport import MemoryTransport, SentMessage
from dua_producer.metric_names import Metric
from dua_producer.prepared_access import PreparedAccess
from dua_producer.pseudonym import pseudonymize
from dua_producer.recording import Access, audited
from dua_producer.spool import Spool
from dua_producer.stats import StatsSnapshot
from dua_producer.transport import DeliveryListener, Receipt, Transport, TransportFull
from dua_producer.vocabulary import (
    ActorKind,
    Compression,
    DestinationKind,
    FsyncPolicy,
    Operation,
    Processing,
)

__all__ = [
    "Access",
    "ActorKind",
    "AuditClient",
    "ClientClosed",
    "Compression",
    "DeliveryListener",
    "DestinationKind",
    "FsyncPolicy",
    "KafkaTransport",
    "MemoryTransport",
    "Metric",
    "Operation",
    "PreparedAccess",
    "Processing",
    "ProducerConfig",
    "Receipt",
    "SentMessage",
    "Spool",
    "StatsSnapshot",
    "Transport",
    "TransportFull",
    "audited",
    "default_client",
    "pseudonymize",
    "set_default_client",
]
