"""Relais: an open-source contact centre in one application."""

__version__ = "0.1.0"
