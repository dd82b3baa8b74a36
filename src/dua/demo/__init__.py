"""`dua demo`: the whole pipeline on this machine with simulated traffic, and a summary."""

from dua.demo.orchestrate import Demo, DemoError, DemoOptions
from dua.demo.summary import DemoSummary, render

__all__ = ["Demo", "DemoError", "DemoOptions", "DemoSummary", "render"]
