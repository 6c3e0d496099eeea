"""A plain, non-editable install works: the wheel carries the contract and finds it at run time."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, incident_mock, incident_contract.document, incident_conformance.cli
from incident_mock.app import create_app
path = incident_contract.document.spec_path()
spec = incident_contract.document.load_spec()
create_app()
print(json.dumps({"mock": incident_mock.__file__, "spec": str(path), "openapi": spec["openapi"],
                  "operations": len(incident_contract.document.operations(spec))}))
"""


def test_the_wheel_ships_the_contract_and_runs_from_a_plain_install(tmp_path: Path) -> None:
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("incident_contract-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "incident_contract/openapi.yaml",
        "incident_mock/fixtures.yaml",
        "incident_mock/app.py",
        "incident_conformance/cli.py",
    } <= names
    assert any(n.startswith("incident_contract/docs/") for n in names)
    assert any(n.startswith("incident_conformance/checks/") for n in names)
    assert not any(n.startswith(("mock/", "conformance/")) for n in names)

    target = tmp_path / "site"
    install = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--quiet",
        "--target",
        str(target),
        str(wheel),
    ]
    subprocess.run(install, check=True, capture_output=True)
    # Run outside the checkout, with the installed copy first on the path: the repo's files are not used.
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=tmp_path, env=env, check=False
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    found = __import__("json").loads(probe.stdout.strip().splitlines()[-1])
    assert found["mock"].startswith(str(target))
    assert found["spec"].startswith(str(target))
    assert (found["openapi"], found["operations"]) == ("3.0.3", 19)
