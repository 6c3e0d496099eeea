"""Attacks on faults, each a defect found on main and fixed here.

- a request held by a `delay` fault went on after its sandbox was deleted: the create answered 200 for an
  incident stored in a store already given back, though a deleted sandbox's tokens "stop working at once",
  and its journal entry took bytes of the journals' shared budget that nothing would give back;
- YAML reads `.nan` and `.inf`, which no schema bound catches: `--faults FILE` armed a fault whose
  probability or delay was NaN.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from incident_mock.app import create_app
from incident_mock.kit.fault_file import FaultFileError, arm_file
from tests.mock.conftest import incident_body
from tests.mock.webhook_helpers import eventually
from tests.servers import serve


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Any, str]]:
    app = create_app()
    with serve(app) as url:
        yield app, url


def test_a_request_delayed_past_its_sandboxs_deletion_is_refused_not_stored(served: tuple[Any, str]) -> None:
    app, mock_url = served
    with httpx.Client(base_url=mock_url, timeout=30) as client:
        made = client.post("/_mock/sandboxes", json={}).json()["sandbox"]
        path = f"/_mock/sandboxes/{made['id']}"
        token = next(k["token"] for k in made["keys"] if k["replaces"] == "mock-key-full")
        fault = client.post(f"{path}/faults", json={"kind": "delay", "seconds": 1}).json()["fault"]
        answers: list[httpx.Response] = []

        def create() -> None:
            with httpx.Client(base_url=mock_url, timeout=30) as other:
                headers = {"Authorization": f"Bearer {token}"}
                answers.append(other.post("/v2/incidents", json=incident_body("late"), headers=headers))

        thread = threading.Thread(target=create)
        thread.start()
        eventually(
            lambda: client.get(f"{path}/faults/{fault['id']}").json()["fault"]["fired"] == 1,
            what="the delay fault firing",
        )
        assert client.delete(path).status_code == 204
        thread.join(timeout=30)
    [answer] = answers
    assert answer.status_code == 401, answer.text
    assert answer.json()["errors"][0]["code"] == "invalid_authorization"
    journals = [s.journal for s in app.sandboxes] + [app.sandboxes.unattributed]
    assert app.sandboxes.budget.used == sum(j.bytes for j in journals)


@pytest.mark.parametrize(
    "text",
    [
        "- kind: error\n  probability: .nan\n",
        "- kind: delay\n  seconds: .nan\n",
        "- kind: delay\n  seconds: 1\n  max_seconds: .NaN\n",
    ],
)
def test_a_faults_file_with_nan_is_refused_naming_the_field(tmp_path: Path, text: str) -> None:
    app = create_app()
    path = tmp_path / "faults.yaml"
    path.write_text(text)
    with pytest.raises(FaultFileError, match="must be a finite number"):
        arm_file(app.sandboxes, path)
    assert list(app.sandboxes.default.faults) == []
