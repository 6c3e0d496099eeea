"""incident-mock's webhook options, as a user runs it: a real process and a real port."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from tests.servers import free_port

OPTIONS = (
    "--webhook-time-scale",
    "--webhook-allow-remote",
    "--webhook-max-endpoints",
    "--webhook-log-entries",
    "--webhook-log-kib",
    "--webhook-log-total-mib",
    "--webhook-max-pending",
    "--webhook-sandbox-concurrency",
    "--webhook-max-connections",
)


def test_help_names_the_webhook_options_and_a_bad_time_scale_is_refused() -> None:
    shown = subprocess.run([sys.executable, "-m", "incident_mock", "--help"], capture_output=True, text=True)
    assert all(option in shown.stdout for option in OPTIONS)
    bad = subprocess.run(
        [sys.executable, "-m", "incident_mock", "--port", "0", "--webhook-time-scale", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--webhook-time-scale" in bad.stderr


def test_a_running_mock_applies_its_webhook_options() -> None:
    port = free_port()
    argv = [sys.executable, "-m", "incident_mock", "--port", str(port), "--log-level", "warning"]
    argv += ["--webhook-max-endpoints", "1", "--webhook-allow-remote", "--webhook-time-scale", "0.5"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/_mock/sandboxes/default/webhooks"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "incident-mock did not start"
            time.sleep(0.05)
        first = httpx.post(base, json={"url": "https://hooks.example.com/incidents"})
        assert first.status_code == 201 and first.json()["webhook"]["time_scale"] == 0.5
        second = httpx.post(base, json={"url": "http://127.0.0.1:9/"})
        assert second.status_code == 422 and "--webhook-max-endpoints" in second.text
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
