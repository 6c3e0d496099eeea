"""The `incident-mock` console script (see incident_contract.launch)."""

from __future__ import annotations

from incident_contract.launch import launch


def main() -> None:
    launch("incident_mock.cli", "mock", "incident-mock")
