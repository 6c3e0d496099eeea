"""One schema for fixtures at every entry point: the file `incident-mock --fixtures` starts with and a
sandbox's own fixtures sent to the control plane. A catalogue of broken documents is refused by both with
the same JSON pointer (the CLI: exit 2 and one line naming the file, the pointer and the rule; the control
plane: 422 `invalid_value` whose pointer is the same below `/fixtures`), and the packaged file is
accepted by both."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from incident_mock.app import DEFAULT_FIXTURES

Json = dict[str, Any]
Break = Callable[[Json], None]


def _set(path: str, value: Any) -> Break:
    def apply(doc: Json) -> None:
        *parents, last = path.strip("/").split("/")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return apply


def _drop(path: str) -> Break:
    def apply(doc: Json) -> None:
        *parents, last = path.strip("/").split("/")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return apply


# name -> (how the packaged document is broken, the pointer both entry points name, the rule)
CATALOGUE: dict[str, tuple[Break, str, str]] = {
    "severity-rank-not-a-number": (_set("/severities/0/rank", "one"), "/severities/0/rank", "type"),
    "severity-without-id": (_drop("/severities/0/id"), "/severities/0", "required"),
    "status-with-unknown-category": (
        _set("/incident_statuses/0/category", "sleeping"),
        "/incident_statuses/0/category",
        "enum",
    ),
    "user-not-an-object": (_set("/users/0", "alice"), "/users/0", "type"),
    "unknown-role": (_set("/api_keys/0/roles", ["root"]), "/api_keys/0/roles", "x-api-key-roles"),
    "seed-payload-without-key": (
        _drop("/incidents/0/payload/idempotency_key"),
        "/incidents/0/payload",
        "required",
    ),
    "unknown-table": (_set("/widgets", []), "/widgets", "additionalProperties"),
}


def packaged() -> Json:
    with open(DEFAULT_FIXTURES, encoding="utf-8") as fh:
        data: Json = yaml.safe_load(fh)
    return data


def broken(name: str) -> Json:
    doc = copy.deepcopy(packaged())
    CATALOGUE[name][0](doc)
    return doc


def start_cli(path: Path) -> subprocess.CompletedProcess[str]:
    """`incident-mock --fixtures PATH` on a free loopback port; a refused document exits at once."""
    argv = [sys.executable, "-m", "incident_mock", "--port", "0", "--fixtures", str(path)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_the_cli_refuses_a_broken_file_in_one_line(tmp_path: Path, name: str) -> None:
    _, pointer, rule = CATALOGUE[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(broken(name)), encoding="utf-8")
    done = start_cli(path)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"incident-mock: --fixtures {path}: {pointer or '/'}: "), line
    assert line.endswith(f"({rule})"), line
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_the_control_plane_refuses_the_same_document_at_the_same_pointer(live_url: str, name: str) -> None:
    _, pointer, _ = CATALOGUE[name]
    answer = httpx.post(f"{live_url}/_mock/sandboxes", json={"fixtures": broken(name)})
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["source"]["pointer"] == f"/fixtures{pointer}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "/: the document is empty; expected a mapping of tables (type)"),
        ("- just\n- a list\n", "/: the document is a list; expected a mapping of tables (type)"),
        ("organisation: {name: x}\n", "/: 'api_keys' is a required property (required)"),
        ("a: [\n", "/: not YAML:"),
    ],
    ids=["empty", "list", "tables-missing", "not-yaml"],
)
def test_the_cli_names_what_is_wrong_with_a_file_that_is_no_fixtures_document(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "fixtures.yaml"
    path.write_text(content, encoding="utf-8")
    done = start_cli(path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"incident-mock: --fixtures {path}: {message}"), line


def test_the_packaged_file_is_accepted_as_a_sandboxs_fixtures(live_url: str) -> None:
    answer = httpx.post(f"{live_url}/_mock/sandboxes", json={"fixtures": packaged()})
    assert answer.status_code == 201, answer.text
    sandbox = answer.json()["sandbox"]
    token = sandbox["keys"][0]["token"]
    incidents = httpx.get(f"{live_url}/v2/incidents", headers={"Authorization": f"Bearer {token}"})
    assert incidents.status_code == 200
    assert len(incidents.json()["incidents"]) >= 1
    httpx.delete(f"{live_url}/_mock/sandboxes/{sandbox['id']}").raise_for_status()
