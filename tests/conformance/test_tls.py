"""TLS: --ca-bundle makes the suite (and Schemathesis) trust a CA the system does not; nothing turns it off.

A self-signed certificate for 127.0.0.1 (made with the openssl command line) serves the real mock over
HTTPS from uvicorn.
"""

from __future__ import annotations

import gc
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner

import incident_conformance.checks  # noqa: F401  (registers the rules)
from incident_conformance.cli import cli
from incident_conformance.target import Budget, Target, tls_verify
from incident_mock.app import create_app
from tests.servers import free_port

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def https_mock(certificate: tuple[Path, Path]) -> Iterator[str]:
    cert, key = certificate
    port = free_port()
    config: Any = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning",
                                 ssl_certfile=str(cert), ssl_keyfile=str(key), timeout_keep_alive=1)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield f"https://127.0.0.1:{port}"
    gc.collect()  # closes the sessions Schemathesis left behind, whose TLS connections would hold the server
    server.should_exit = True
    thread.join(timeout=10)


def test_the_bundle_verifies_the_target_and_the_system_s_cas_do_not(
    https_mock: str, certificate: tuple[Path, Path]
) -> None:
    trusted = Target(https_mock, "mock-key-full", budget=Budget(1), verify=tls_verify(str(certificate[0])))
    untrusted = Target(https_mock, "mock-key-full", budget=Budget(1), verify=tls_verify(None))
    try:
        assert trusted.request("GET", "/v1/identity").status == 200
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            untrusted.request("GET", "/v1/identity")
    finally:
        trusted.close()
        untrusted.close()


def test_the_suite_and_schemathesis_run_over_tls_with_the_bundle(
    https_mock: str, certificate: tuple[Path, Path]
) -> None:
    args = ["--base-url", https_mock, "--api-key", "mock-key-full", "--seed", "1", "--rules", "AUTH-4,SCHEMA-3",
            "--schema-max-examples", "1"]  # fmt: skip
    without = CliRunner().invoke(cli, args)
    assert without.exit_code == 2 and "CERTIFICATE_VERIFY_FAILED" in without.output
    result = CliRunner().invoke(cli, [*args, "--ca-bundle", str(certificate[0])], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_a_bundle_that_is_not_pem_is_a_one_line_reason(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    args = ["--base-url", "https://127.0.0.1:1", "--api-key", "k", "--ca-bundle", str(bad)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "--ca-bundle" in result.output
    assert len(result.output.strip().splitlines()) == 1
