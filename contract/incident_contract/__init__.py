"""The incident-contract core: the packaged openapi.yaml, loaded, validated and asked questions.

Framework-free: the mock (`incident_mock`) and the conformance suite (`incident_conformance`) both
import it, and it imports neither.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
