"""The unmodified ghga-connector 4.0.1 (kept in devtools: `invoke chaos` runs it too)."""

from devtools.connector import VENV, VERSION, Connector, ensure_connector

__all__ = ["VENV", "VERSION", "Connector", "ensure_connector"]
