from __future__ import annotations

from incident_conformance.cli import main

main()
