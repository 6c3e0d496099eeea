"""The pytest plugin (`incident_mock.pytest_plugin`, entry point `pytest11`) used as an integrator would:
a throw-away project in a temporary folder (one test file, no conftest) run by pytest in a subprocess,
alone, under pytest-xdist, and against a mock that is already running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from incident_mock.testing import IncidentMock

# The integrator's test file: an alert bridge (their code) and tests of it, each in its own sandbox.
PROJECT_TESTS = textwrap.dedent(
    '''
    import json
    import os
    from pathlib import Path

    import httpx
    import pytest
    from incident_io import AuthenticatedClient
    from incident_io.api.incidents_v2 import incidents_v2_create
    from incident_io.models import IncidentsCreatePayloadV2, IncidentsCreatePayloadV2Visibility

    MAJOR = "01JGZ0SEV0000000000000MAJ0"


    def alert_bridge(base_url: str, token: str, alert: dict) -> str:
        """The code under test: turn an alert into an incident with the official SDK."""
        with AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True) as client:
            body = IncidentsCreatePayloadV2(
                idempotency_key=alert["fingerprint"],
                visibility=IncidentsCreatePayloadV2Visibility.PUBLIC,
                name=alert["summary"],
                severity_id=MAJOR,
            )
            result = incidents_v2_create.sync(client=client, body=body)
        assert result is not None
        return result.incident.id


    def incidents(sandbox) -> list[dict]:
        answer = httpx.get(
            f"{sandbox.base_url}/v2/incidents", headers={"Authorization": f"Bearer {sandbox.keys.viewer}"}
        )
        assert answer.status_code == 200
        return answer.json()["incidents"]


    def test_alert_bridge_creates_one_incident(incident_sandbox):
        alert = {"fingerprint": "disk-full-db1", "summary": "Disk full on db1"}
        incident_id = alert_bridge(incident_sandbox.base_url, incident_sandbox.keys.creator, alert)

        assert [i["id"] for i in incidents(incident_sandbox) if i["name"] == "Disk full on db1"] == [incident_id]
        [create] = incident_sandbox.requests(operation_id="Incidents V2#Create")
        assert create.status == 200 and create.request_body["idempotency_key"] == "disk-full-db1"



    def test_alert_bridge_sends_a_webhook(incident_sandbox, incident_webhooks):
        alert = {"fingerprint": "cpu-hot-web1", "summary": "CPU hot on web1"}
        incident_id = alert_bridge(incident_sandbox.base_url, incident_sandbox.keys.creator, alert)

        [delivery] = incident_webhooks.wait_for("public_incident.incident_created_v2")
        assert delivery.payload["public_incident.incident_created_v2"]["id"] == incident_id
        assert delivery.webhook_id == incident_webhooks.endpoint.messages()[0].id

    @pytest.mark.parametrize("n", range(int(os.environ.get("PLUGIN_TESTS", "4"))))
    def test_each_test_sees_only_its_own_world(incident_sandbox, n):
        mine = {f"test {n} incident {k}" for k in range(2)}
        for name in sorted(mine):
            answer = httpx.post(
                f"{incident_sandbox.base_url}/v2/incidents",
                json={"idempotency_key": name, "visibility": "public", "severity_id": MAJOR, "name": name},
                headers={"Authorization": f"Bearer {incident_sandbox.keys.creator}"},
            )
            assert answer.status_code == 200, answer.text
        created = {i["name"] for i in incidents(incident_sandbox) if i["name"].startswith("test ")}
        assert created == mine
        journal = incident_sandbox.requests()
        assert [e.operation_id for e in journal] == ["Incidents V2#Create"] * 2 + ["Incidents V2#List"]
        assert {e.request_body["name"] for e in journal[:2]} == mine
        report = Path(os.environ["PLUGIN_REPORT"]) / f"{n}.json"
        report.write_text(json.dumps({
            "worker": os.environ.get("PYTEST_XDIST_WORKER", ""),
            "url": incident_sandbox.base_url,
            "sandbox": incident_sandbox.id,
        }))
    '''
)


def run_pytest(
    tmp_path: Path, tests: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a throw-away project holding one test file, `tests`, in a pytest subprocess."""
    project, reports = tmp_path / "project", tmp_path / "reports"
    project.mkdir(parents=True, exist_ok=True)
    reports.mkdir(exist_ok=True)
    (project / "test_bridge.py").write_text(tests)
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "INCIDENT_MOCK_")) and k not in ("PYTHONWARNINGS",)
    }
    environ.update(PLUGIN_REPORT=str(reports), **(env or {}))
    # pytest-asyncio (installed here, unused by the project) warns about its own unset option under -W error
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:asyncio",
        "-W",
        "error",
        "-q",
    ]
    command += args
    # A generous limit, not a speed test: 200 tests on two workers took 20-30 s here, and over 120 s with the
    # machine's load at 15; pytest-timeout's 300 s stays the outer bound.
    return subprocess.run(command, cwd=project, env=environ, capture_output=True, text=True, timeout=280)


def run_project(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, tests: str = PROJECT_TESTS
) -> list[dict[str, str]]:
    """Run the throw-away project's tests; they must pass. What each test reported."""
    done = run_pytest(tmp_path, tests, *args, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed" in done.stdout and "warning" not in done.stdout.lower(), done.stdout
    return [json.loads(path.read_text()) for path in sorted((tmp_path / "reports").glob("*.json"))]


def test_plugin_alone(tmp_path: Path) -> None:
    reports = run_project(tmp_path)
    assert len(reports) == 4
    assert len({r["sandbox"] for r in reports}) == 4, "a fresh sandbox per test"
    assert len({r["url"] for r in reports}) == 1, "one mock per session"


def test_plugin_under_xdist(tmp_path: Path) -> None:
    # Two workers run 200 tests, each creating incidents in its own sandbox and seeing only those.
    reports = run_project(tmp_path, "-n", "2", env={"PLUGIN_TESTS": "200"})
    assert len(reports) == 200 and len({r["sandbox"] for r in reports}) == 200
    assert {r["worker"] for r in reports} == {"gw0", "gw1"}
    by_worker = {r["worker"]: r["url"] for r in reports}
    assert len(set(by_worker.values())) == 2, "one mock per worker"


def test_plugin_against_a_running_mock(tmp_path: Path) -> None:
    with IncidentMock(admin_token="s3cret") as mock:
        option = run_project(
            tmp_path / "option", "--incident-mock-url", mock.url, "--incident-mock-admin-token", "s3cret"
        )
        from_env = run_project(
            tmp_path / "env", env={"INCIDENT_MOCK_URL": mock.url, "INCIDENT_MOCK_ADMIN_TOKEN": "s3cret"}
        )
        assert {r["url"] for r in option + from_env} == {mock.url}
        sandboxes = mock.client.get("/_mock/sandboxes").json()["sandboxes"]
        assert [s["id"] for s in sandboxes] == ["default"], "every test's sandbox was deleted after it"
        assert mock.get_sandbox("default").info["journal_entries"] == 0


def test_plugin_against_a_shared_mock_with_a_create_only_token(tmp_path: Path) -> None:
    # The suite holds no admin token: it creates its sandboxes with the create-only token, and reads their
    # journals, registers their webhooks and deletes them with each sandbox's own control token.
    with IncidentMock(admin_token="s3cret", sandbox_create_token="maker") as mock:
        option = run_project(
            tmp_path / "option", "--incident-mock-url", mock.url, "--incident-mock-create-token", "maker"
        )
        from_env = run_project(
            tmp_path / "env",
            env={"INCIDENT_MOCK_URL": mock.url, "INCIDENT_MOCK_SANDBOX_CREATE_TOKEN": "maker"},
        )
        assert len(option) == len(from_env) == 4 and {r["url"] for r in option + from_env} == {mock.url}
        sandboxes = mock.client.get("/_mock/sandboxes").json()["sandboxes"]
        assert [s["id"] for s in sandboxes] == ["default"], "every test's sandbox was deleted after it"


def pytest_says(option: str) -> str:
    """What `pytest <option>` prints (--help, --markers), with the plugins installed here."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", option],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_plugin_registers_its_options_and_imports_nothing_heavy() -> None:
    usage = pytest_says("--help")
    assert "--incident-mock-url=URL" in usage and "--incident-mock-admin-token" in usage
    assert "--incident-mock-create-token" in usage
    probe = (
        "import sys, incident_mock.pytest_plugin; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'connexion', 'uvicorn', 'starlette', 'httpx', 'jsonschema', 'yaml', 'incident_contract'}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-W", "error", "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


# Tests marked to get a seeded sandbox with a frozen clock, each reporting the id of the incident it creates.
MARKED_TESTS = textwrap.dedent(
    """
    import datetime as dt
    import json
    import os
    from pathlib import Path

    import httpx
    import pytest

    START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


    def create_and_report(sandbox, name: str) -> None:
        answer = httpx.post(
            f"{sandbox.base_url}/v2/incidents",
            json={"idempotency_key": "k", "visibility": "public", "name": "Seeded",
                  "severity_id": "01JGZ0SEV0000000000000MAJ0"},
            headers={"Authorization": f"Bearer {sandbox.keys.creator}"},
        )
        assert answer.status_code == 200, answer.text
        state = sandbox.clock.state()
        report = {"id": answer.json()["incident"]["id"], "seed": sandbox.seed, "frozen": state["frozen"],
                  "now": state["now"]}
        (Path(os.environ["PLUGIN_REPORT"]) / f"{name}.json").write_text(json.dumps(report))


    @pytest.mark.incident_sandbox(seed=7, frozen_at="2026-01-01T00:00:00Z")
    def test_a_string_instant(incident_sandbox):
        assert incident_sandbox.clock.now() == START
        create_and_report(incident_sandbox, "a")


    @pytest.mark.incident_sandbox(seed=7, frozen_at=START)
    def test_a_datetime(incident_sandbox):
        create_and_report(incident_sandbox, "b")


    @pytest.mark.incident_sandbox(seed=7, frozen_at="2026-01-01T00:00:00+00:00")
    class TestMarkedClass:
        def test_in_a_class(self, incident_sandbox):
            create_and_report(incident_sandbox, "c")


    @pytest.mark.incident_sandbox(seed=8, frozen_at=START)
    def test_another_seed(incident_sandbox):
        create_and_report(incident_sandbox, "d")


    def test_unmarked(incident_sandbox):
        create_and_report(incident_sandbox, "e")
    """
)


def test_the_marker_gives_a_seeded_frozen_sandbox(tmp_path: Path) -> None:
    a, b, c, d, e = run_project(tmp_path, "--strict-markers", tests=MARKED_TESTS)
    assert a == b == c, "the same seed, the same requests and a frozen clock: the same ids"
    assert (a["seed"], a["frozen"], a["now"]) == (7, True, "2026-01-01T00:00:00.000000Z")
    assert d["seed"] == 8 and d["id"] != a["id"]
    assert e["seed"] is None and not e["frozen"] and e["id"] != a["id"]


def test_a_wrong_marker_argument_fails_the_test_clearly(tmp_path: Path) -> None:
    tests = textwrap.dedent(
        """
        import pytest

        @pytest.mark.incident_sandbox(sed=7)
        def test_misspelt(incident_sandbox):
            pass

        @pytest.mark.incident_sandbox(frozen_at="new year's day")
        def test_not_an_instant(incident_sandbox):
            pass
        """
    )
    done = run_pytest(tmp_path, tests, "--strict-markers")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 errors" in done.stdout, done.stdout
    assert "takes the keywords fixtures, seed, frozen_at; not sed" in done.stdout
    assert 'frozen_at "new year\'s day" is not an RFC 3339 instant' in done.stdout


def test_the_marker_is_registered() -> None:
    assert "@pytest.mark.incident_sandbox(seed=None, frozen_at=None, fixtures=None)" in pytest_says(
        "--markers"
    )
