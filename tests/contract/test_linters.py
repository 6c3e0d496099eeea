"""Both documents, as files and as the mock serves them, pass Redocly and Spectral with no error, and each
loads with a YAML loader that refuses a key named twice in one mapping.

The linters are npm packages that `make install` puts into tests/linters/node_modules (`npm ci`); this
test runs those local binaries and reaches no registry. The rules switched off, and why, are in
tests/linters/redocly.yaml and tests/linters/spectral.yaml.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from incident_contract.document import StrictLoader, control_spec_path, spec_path
from incident_mock.app import create_app
from tests.docs.browser import in_ci
from tests.transport import WSGILikeASGI

LINTERS = Path(__file__).resolve().parents[1] / "linters"
BIN = LINTERS / "node_modules" / ".bin"
# No telemetry, no update check: the linters stay off the network.
ENV = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}
SERVED = ("/openapi.json", "/control-plane.json")
# A document each linter must refuse: `nullable` with no `type` (Redocly) and a path parameter the path
# does not name (both).
FLAWED = """\
openapi: 3.0.3
info: {title: t, version: '1', description: d, license: {name: MIT, url: 'https://opensource.org/licenses/MIT'}}
servers: [{url: 'http://127.0.0.1:8080'}]
security: []
tags: [{name: T, description: d}]
paths:
  /things:
    get:
      operationId: list
      tags: [T]
      summary: s
      description: d
      parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: object, properties: {body: {nullable: true}}}
        '400': {description: bad}
"""


def binary(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        message = f"{path} is missing: `make install` installs the linters (npm ci in tests/linters)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The two files, and the two documents as the mock serves them (with its `servers`)."""
    folder = tmp_path_factory.mktemp("served")
    found = {"openapi.yaml": spec_path(), "control-plane.yaml": control_spec_path()}
    with httpx.Client(transport=WSGILikeASGI(create_app()), base_url="http://127.0.0.1:8080") as client:
        for path in SERVED:
            response = client.get(path)
            assert response.status_code == 200, path
            (folder / path[1:]).write_bytes(response.content)
            found[f"served {path}"] = folder / path[1:]
    return found


def redocly(document: Path) -> dict[str, Any]:
    config = LINTERS / "redocly.yaml"
    done = subprocess.run(
        [binary("redocly"), "lint", "--config", config, "--format", "json", document],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=900,
    )
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def spectral(*documents: Path) -> list[dict[str, Any]]:
    ruleset = LINTERS / "spectral.yaml"
    done = subprocess.run(
        [binary("spectral"), "lint", "--ruleset", ruleset, "--format", "json", "--quiet", *documents],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=900,
    )
    assert done.stdout.strip(), done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def errors_of(report: dict[str, Any]) -> list[str]:
    return [
        f"{p['ruleId']} at {p['location'][0]['pointer']}: {p['message']}"
        for p in report["problems"]
        if p["severity"] == "error"
    ]


@pytest.mark.parametrize("name", ["openapi.yaml", "control-plane.yaml", *(f"served {p}" for p in SERVED)])
def test_redocly_finds_no_error(documents: dict[str, Path], name: str) -> None:
    report = redocly(documents[name])
    assert errors_of(report) == []
    assert report["totals"]["errors"] == 0


def test_spectral_finds_no_error(documents: dict[str, Path]) -> None:
    """The two files: the served documents are the files with the mock's `servers`
    (tests/docs/test_live_docs.py), and Redocly lints them as served."""
    problems = spectral(documents["openapi.yaml"], documents["control-plane.yaml"])
    errors = [
        f"{p['source']}: {p['code']} at {p['path']}: {p['message']}" for p in problems if p["severity"] == 0
    ]
    assert errors == []


def test_both_linters_report_the_errors_of_a_flawed_document(tmp_path: Path) -> None:
    flawed = tmp_path / "flawed.yaml"
    flawed.write_text(FLAWED, encoding="utf-8")
    assert {p["ruleId"] for p in redocly(flawed)["problems"] if p["severity"] == "error"} >= {
        "nullable-type-sibling",
        "path-parameters-defined",
    }
    assert "path-params" in {p["code"] for p in spectral(flawed) if p["severity"] == 0}


@pytest.mark.parametrize("path", [spec_path(), control_spec_path()], ids=lambda p: p.name)
def test_each_document_loads_with_a_loader_that_refuses_duplicate_keys(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    strict = yaml.load(text, Loader=StrictLoader)
    assert strict == yaml.safe_load(text)
    assert strict["paths"]


def test_the_strict_loader_refuses_a_response_named_twice() -> None:
    text = "responses:\n  '401': {description: a}\n  '404': {description: b}\n  '401': {description: c}\n"
    assert yaml.safe_load(text)["responses"]["401"] == {"description": "c"}  # PyYAML's own keeps the last
    with pytest.raises(yaml.constructor.ConstructorError, match="found duplicate key '401'") as refused:
        yaml.load(text, Loader=StrictLoader)
    assert refused.value.problem_mark is not None and refused.value.problem_mark.line == 3
