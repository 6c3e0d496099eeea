"""``python -m incident_contract.docs --out DIR``: write the static site (what ``make docs`` runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from incident_contract.docs.site import build_site


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m incident_contract.docs", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("site"), help="output folder (default: site)")
    for path in build_site(parser.parse_args(argv).out):
        print(path)


if __name__ == "__main__":
    main()
