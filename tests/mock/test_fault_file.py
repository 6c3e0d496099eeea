"""`incident-mock --faults FILE`: arming from YAML, and a bad file's one-line refusal (exit 2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from incident_mock.kit.fault_file import FaultFileError, arm_file
from tests.servers import free_port

GOOD = """\
- operation_id: Incidents V2#Create
  kind: after_commit
  times: 2
- kind: error
  status: 429
  retry_after: 2
  probability: 0.5
  seed: 7
  sandbox: default
"""


def test_a_file_arms_its_faults_in_order(app: Any, store: Any, tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(GOOD)
    armed = arm_file(app.sandboxes, path)
    assert [(f.kind, f.remaining, f.seed) for f in armed] == [("after_commit", 2, None), ("error", None, 7)]
    assert list(app.holder.faults) == armed


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("kind: drop\n", "YAML list"),
        ("- [1, 2]\n", "item 1: a fault is a mapping"),
        (
            "- kind: drop\n- kind: delay\n  seconds: 61\n",
            "item 2: seconds: 61 is greater than the maximum of 60",
        ),
        ("- kind: drop\n  sandbox: sbx_nope\n", "item 1: No sandbox with id 'sbx_nope'"),
        ("- kind: error\n  status: 418\n", "item 1: status is invalid: 418 is declared by no operation"),
        ("- kind: [\n", "not valid YAML"),
    ],
)
def test_a_bad_file_is_refused_naming_the_item(
    app: Any, store: Any, tmp_path: Path, text: str, reason: str
) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(text)
    with pytest.raises(FaultFileError) as refused:
        arm_file(app.sandboxes, path)
    assert reason in str(refused.value) and "\n" not in str(refused.value)
    assert list(app.holder.faults) == []


def run_mock(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "incident_mock", *args, "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_incident_mock_arms_the_file_at_start(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text("- kind: error\n  operation_id: Severities V1#List\n  status: 500\n")
    port = free_port()
    proc = run_mock("--port", str(port), "--faults", str(path))
    try:
        assert proc.stdout is not None
        deadline, lines = time.monotonic() + 30, []
        while time.monotonic() < deadline and not any("faults" in line for line in lines):
            lines.append(proc.stdout.readline())
        assert "1 armed from" in "".join(lines)
        url = f"http://127.0.0.1:{port}"
        answer = httpx.get(f"{url}/v1/severities", headers={"Authorization": "Bearer mock-key-viewer"})
        assert answer.status_code == 500
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_incident_mock_exits_2_with_one_line_for_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text("- kind: drop\n  status: 500\n")
    proc = run_mock("--port", str(free_port()), "--faults", str(path))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip().count("\n") == 0 and "item 1: status is invalid" in err and "Traceback" not in err
