"""The incident-contract conformance suite: checks any server against openapi.yaml, rule by rule."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
