"""data-usage-audit: the `dua` application (CLI, settings, local services)."""

from dua.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
