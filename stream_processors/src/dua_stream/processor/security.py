"""librdkafka security settings turned into what Faust (aiokafka) takes."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

from dua_schemas import ConfigError


def faust_credentials(security: Mapping[str, str]) -> Any:
    """`broker_credentials` for Faust from `security.protocol`, `sasl.*`, `ssl.ca.location`."""
    protocol = security.get("security.protocol", "PLAINTEXT").upper()
    if protocol == "PLAINTEXT":
        return None
    import faust  # noqa: PLC0415 - Faust loads only with the worker

    context = None
    if protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(cafile=security.get("ssl.ca.location"))
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    if protocol not in ("SASL_PLAINTEXT", "SASL_SSL"):
        raise ConfigError(f"Kafka security protocol {protocol} is not supported by the processor")
    return faust.SASLCredentials(
        username=security.get("sasl.username"),
        password=security.get("sasl.password"),
        mechanism=security.get("sasl.mechanism", "PLAIN"),
        ssl_context=context,
    )
