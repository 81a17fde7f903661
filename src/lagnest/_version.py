"""The package version: one definition, read by ``pyproject.toml`` and every provenance stamp."""

__version__ = "0.1.0"
