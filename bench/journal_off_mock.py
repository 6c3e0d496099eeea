"""`incident-mock` with its journal stage swapped for a pass-through, for bench/journal_wrk.py only.

Same argv as `incident-mock`. The mock has no switch for its journal; this patches the recording stage out
in this process (as bench/journal_cost.py does in-process), then runs the ordinary console script.
"""

from __future__ import annotations

from journal_cost import PassThrough

import incident_mock.app as mock_app
from incident_mock.launch import main

if __name__ == "__main__":
    vars(mock_app)["Recording"] = PassThrough
    main()
