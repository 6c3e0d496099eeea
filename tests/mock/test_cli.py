"""incident-mock as a user runs it: a real process, a real port, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

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
        assert f"http://127.0.0.1:{port}/_mock/" in banner and "control-plane.yaml" in banner
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
    for option in (
        "--public-url", "--allowed-host", "--admin-token", "INCIDENT_MOCK_ADMIN_TOKEN", "--cors-origin",
        "--max-header-bytes", "--max-headers", "--request-timeout", "--keep-alive-timeout", "--max-connections",
        "--max-sandboxes", "--max-total-incidents", "--journal-entries", "--journal-kib", "--journal-body-kib",
        "--journal-total-mib",
    ):  # fmt: skip
        assert option in result.stdout


def test_port_0_and_a_public_url_show_in_the_banner_and_the_answers(tmp_path: Path) -> None:
    log = tmp_path / "mock.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "incident_mock", "--port", "0", "--public-url", "http://mock.test:1234/",
             "--admin-token", "t0ken", "--log-level", "warning"],
            stdout=out, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while (
            "mock-key-viewer" not in log.read_text() and time.monotonic() < deadline and proc.poll() is None
        ):
            time.sleep(0.05)
        banner = log.read_text()
        assert "base URL   http://mock.test:1234\n" in banner
        assert "Bearer <admin token>" in banner
        port = re.search(r"listening\s+http://127\.0\.0\.1:(\d+)", banner)
        assert port, banner
        base = f"http://127.0.0.1:{port.group(1)}"
        identity = httpx.get(f"{base}/v1/identity", headers={"Authorization": "Bearer mock-key-viewer"})
        assert identity.json()["identity"]["dashboard_url"] == "http://mock.test:1234/dashboard"
        assert httpx.get(f"{base}/_mock/health").status_code == 401
        health = httpx.get(f"{base}/_mock/health", headers={"Authorization": "Bearer t0ken"})
        assert health.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert proc.returncode == 0
    assert "Traceback" not in log.read_text()


def test_an_exposed_address_without_an_admin_token_is_refused_before_binding() -> None:
    """An empty INCIDENT_MOCK_ADMIN_TOKEN is no token; 192.0.2.1 is not even an address of this machine."""
    env = {**os.environ, "INCIDENT_MOCK_ADMIN_TOKEN": ""}
    done = subprocess.run(
        [sys.executable, "-m", "incident_mock", "--host", "192.0.2.1", "--port", "0"],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip().startswith(
        "incident-mock: refusing to listen on 192.0.2.1 without an admin token"
    )


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "incident_mock", "--port", str(port)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip().startswith(f"incident-mock: cannot listen on 127.0.0.1:{port}: ")
    assert len(done.stderr.strip().splitlines()) == 1


URL = re.compile(r"https?://[^\s,()]+")
FAULTS = "- operation_id: Incidents V2#Create\n  kind: after_commit\n  times: 1\n"


@pytest.mark.parametrize("admin", [None, "t0ken"], ids=["open", "admin-token"])
def test_every_url_the_banner_prints_answers_200(tmp_path: Path, admin: str | None) -> None:
    """The real CLI on a free loopback port: each URL of its banner, asked with the credentials the banner
    names beside it (the admin token as Bearer on /_mock/, as Basic password on the dashboard), is 200;
    the base URL alone redirects, to the docs."""
    faults = tmp_path / "faults.yaml"
    faults.write_text(FAULTS)
    command = [sys.executable, "-m", "incident_mock", "--port", "0", "--log-level", "warning"]
    command += ["--faults", str(faults), *(["--admin-token", admin] if admin else [])]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("INCIDENT_MOCK_ADMIN_TOKEN", None)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline()]
        while lines[-1] and not lines[-1].lstrip().startswith("faults"):  # the banner's last line
            lines.append(proc.stdout.readline())
        banner = "".join(lines)
        base = re.search(r"base URL\s+(\S+)", banner)
        assert base and base.group(1).startswith("http://127.0.0.1:"), banner
        urls = list(dict.fromkeys(URL.findall(banner)))
        assert len(urls) >= 8, banner  # base, docs, 2 contracts, control, its document, dashboard, faults
        with httpx.Client(timeout=15) as client:
            for url in urls:
                path = url.removeprefix(base.group(1))
                auth: dict[str, Any] = {}
                if admin and path.startswith("/_mock/"):
                    auth = {"headers": {"Authorization": f"Bearer {admin}"}}
                elif admin and path.startswith("/dashboard"):
                    auth = {"auth": ("anyone", admin)}
                answer = client.get(url, follow_redirects=True, **auth)
                assert answer.status_code == 200, f"{url}: {answer.status_code}"
                assert [r.url.path for r in answer.history] == ([] if path else ["/"]), url
                if admin and auth:  # what the banner says the credentials are for, they are needed for
                    assert client.get(url).status_code == 401, url
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "Traceback" not in out
