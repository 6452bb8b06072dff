"""Dockyard: a self-hosted deployment platform."""

__version__ = "0.1.0"
