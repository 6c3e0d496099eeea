"""incident-mock as a user runs it: a real process, a real port, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from tests.servers import free_port


def test_start_prints_the_banner_serves_and_stops_cleanly_on_ctrl_c() -> None:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "incident_mock", "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "mock-key-viewer" in line:
                break
        banner = "".join(lines)
        assert f"http://127.0.0.1:{port}" in banner
        assert "/docs/" in banner
        assert "mock-key-full" in banner
        assert "mock-key-creator" in banner
        response = httpx.get(
            f"http://127.0.0.1:{port}/v1/identity", headers={"Authorization": "Bearer mock-key-viewer"}
        )
        assert response.json()["identity"]["roles"] == ["viewer"]
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "Traceback" not in out


def test_help_names_the_default_keys() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "incident_mock", "--help"], capture_output=True, text=True, check=True
    )
    for text in ("--host", "--port", "--fixtures", "--validate-responses", "--log-level", "mock-key-full"):
        assert text in result.stdout
