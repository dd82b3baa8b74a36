"""Who may do what on a secured broker: the pipeline's ACLs, granted with the AdminClient.

Each principal gets only what its component does. Topic and group names come from Settings;
the processor's own topics, group and transactional ids share the Faust app id as a prefix.
Nothing is allowed where no grant says so (`allow.everyone.if.no.acl.found=false`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from confluent_kafka import KafkaException

# The documented import path; confluent_kafka.admin re-exports these without an `__all__`.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from dua.kafka.errors import BrokerError
from dua.settings import Settings
from dua_schemas import ConfigError, Topics

ACL_TIMEOUT_S = 30.0
ANY_HOST: Final = "*"

Op = AclOperation
# DESCRIBE is implied by READ and WRITE; it is granted explicitly so the ACL list reads plainly.
WRITE_TOPIC: Final = (Op.WRITE, Op.DESCRIBE)
READ_TOPIC: Final = (Op.READ, Op.DESCRIBE)
GROUP_MEMBER: Final = (Op.READ, Op.DESCRIBE)
# Faust creates, reads and writes its changelog, repartition and leader topics itself.
APP_TOPICS: Final = (Op.CREATE, Op.READ, Op.WRITE, Op.DESCRIBE, Op.DESCRIBE_CONFIGS)
# Faust's exactly-once mode uses one transactional id per partition, `<app id>-<group>-<n>`.
APP_TRANSACTIONS: Final = (Op.WRITE, Op.DESCRIBE)


@dataclass(frozen=True, slots=True)
class Grant:
    """Allow `user` the `operations` on the resources named `name` (or starting with it)."""

    user: str
    resource: ResourceType
    name: str
    operations: tuple[AclOperation, ...]
    prefixed: bool = False

    def bindings(self) -> list[AclBinding]:
        """One ALLOW binding per operation, from any host."""
        pattern = ResourcePatternType.PREFIXED if self.prefixed else ResourcePatternType.LITERAL
        return [
            AclBinding(
                self.resource,
                self.name,
                pattern,
                f"User:{self.user}",
                ANY_HOST,
                operation,
                AclPermissionType.ALLOW,
            )
            for operation in self.operations
        ]


def pipeline_grants(settings: Settings) -> tuple[Grant, ...]:
    """Every grant of the pipeline's principals: producer, processor, sink, notifier."""
    topics = settings.topics
    app = settings.processor_app_id
    _check_app_prefix(
        app, topics, {"sink": settings.sink_group, "notifier": settings.notifier_group}
    )
    inputs = (topics.raw, topics.consent)
    outputs = (topics.tagged, topics.violations, topics.dlq)
    return (
        *_on_topics("producer", inputs, WRITE_TOPIC),
        *_on_topics("processor", inputs, READ_TOPIC),
        *_on_topics("processor", outputs, WRITE_TOPIC),
        Grant("processor", ResourceType.TOPIC, app, APP_TOPICS, prefixed=True),
        Grant("processor", ResourceType.GROUP, app, GROUP_MEMBER, prefixed=True),
        Grant("processor", ResourceType.TRANSACTIONAL_ID, app, APP_TRANSACTIONS, prefixed=True),
        *_on_topics("sink", outputs, READ_TOPIC),
        Grant("sink", ResourceType.GROUP, settings.sink_group, GROUP_MEMBER),
        *_on_topics("notifier", (topics.violations,), READ_TOPIC),
        Grant("notifier", ResourceType.GROUP, settings.notifier_group, GROUP_MEMBER),
    )


def grant_acls(
    bootstrap: str,
    admin_config: Mapping[str, str],
    grants: Iterable[Grant],
    *,
    timeout: float = ACL_TIMEOUT_S,
) -> int:
    """Create the grants' ACLs (existing ones are kept as they are); return how many bindings."""
    bindings = list(dict.fromkeys(binding for grant in grants for binding in grant.bindings()))
    if not bindings:
        return 0
    admin = AdminClient({**admin_config, "bootstrap.servers": bootstrap})
    futures = admin.create_acls(bindings, request_timeout=timeout)
    for binding, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            raise BrokerError(f"could not create {binding!r}: {exc.args[0].str()}") from None
    return len(bindings)


def _on_topics(
    user: str, names: Iterable[str], operations: tuple[AclOperation, ...]
) -> list[Grant]:
    return [Grant(user, ResourceType.TOPIC, name, operations) for name in dict.fromkeys(names)]


def _check_app_prefix(app: str, topics: Topics, groups: Mapping[str, str]) -> None:
    """The app-id prefix must not reach another component's topics or groups."""
    clashes = [f"topic {name}" for name in topics.names() if name.startswith(app)]
    clashes += [f"{role} group {name}" for role, name in groups.items() if name.startswith(app)]
    if clashes:
        raise ConfigError(
            f"DUA_PROCESSOR_APP_ID {app!r} is a prefix of {', '.join(clashes)}: the processor's "
            "prefixed ACLs would reach them; choose an app id no other name starts with"
        )
