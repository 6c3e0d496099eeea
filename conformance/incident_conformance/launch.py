"""The `incident-conformance` console script (see incident_contract.launch)."""

from __future__ import annotations

from incident_contract.launch import launch


def main() -> None:
    launch("incident_conformance.commands", "conformance", "incident-conformance")
