"""Only active violations at or above the threshold are posted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dua_schemas import ConfigError
from dua_stream.notifier import NotifierConfig, triage

Make = Callable[..., dict[str, Any]]


@pytest.mark.parametrize("severity", ["low", "medium", "high", "critical"])
def test_shadow_mode_is_never_posted(violation: Make, severity: str) -> None:
    """A shadow-mode rule's finding is skipped whatever its severity."""
    assert triage(violation(mode="shadow", severity=severity), "low") == "shadow"


@pytest.mark.parametrize(
    ("severity", "threshold", "expected"),
    [
        ("critical", "high", "notify"),
        ("high", "high", "notify"),
        ("medium", "high", "below_threshold"),
        ("low", "medium", "below_threshold"),
        ("low", "low", "notify"),
        ("high", "critical", "below_threshold"),
    ],
)
def test_threshold(violation: Make, severity: str, threshold: str, expected: str) -> None:
    """A violation is posted exactly when its severity reaches the threshold."""
    assert triage(violation(severity=severity), threshold) == expected


def test_unknown_threshold_is_a_config_error() -> None:
    """A misspelt threshold is refused when the configuration is built, naming the value."""
    with pytest.raises(ConfigError, match="'severe'"):
        NotifierConfig(min_severity="severe")
