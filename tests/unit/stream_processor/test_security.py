"""librdkafka security settings become the credentials Faust's consumer logs in with."""

from __future__ import annotations

import faust
import pytest

from dua_schemas import ConfigError
from dua_stream.processor.security import faust_credentials


def test_plaintext_needs_no_credentials() -> None:
    """No protocol, or PLAINTEXT: Faust connects without credentials."""
    assert faust_credentials({}) is None
    assert faust_credentials({"security.protocol": "PLAINTEXT"}) is None


def test_sasl_settings_become_sasl_credentials() -> None:
    """User, password and mechanism are carried over."""
    credentials = faust_credentials(
        {
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": "processor",
            "sasl.password": "secret",
        }
    )
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.username, credentials.password) == ("processor", "secret")
    assert str(credentials.mechanism.value) == "SCRAM-SHA-512"


def test_unknown_protocol_is_a_config_error() -> None:
    """A protocol the processor cannot speak is refused with its name."""
    with pytest.raises(ConfigError, match="KERBEROS"):
        faust_credentials({"security.protocol": "KERBEROS"})
