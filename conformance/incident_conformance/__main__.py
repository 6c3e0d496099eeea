from __future__ import annotations

from incident_conformance.commands import main

main()
