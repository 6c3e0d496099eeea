"""The built wheel, installed as a user would: into a fresh venv, next to PyPI's `mock`, one extra at a time.

The venv installs from the local wheelhouse that `make install` prepares (`pip download`), with
`--no-index`: the test reaches no registry. The README's install line runs as written, in a copy of the
repository, with the oldest pip it names.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from incident_contract.document import load_spec
from incident_contract.install import MIN_PIP
from incident_contract.operations import operations
from incident_mock.app import create_app
from tests.readme import install_lines
from tests.servers import serve

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
OURS = ("incident_contract", "incident_mock", "incident_conformance")

# Runs the suite in the fresh venv, then says which packages the run had loaded.
SUITE = """
import json, sys
from incident_conformance.launch import main
sys.argv = ["incident-conformance", "--base-url", sys.argv[1], "--api-key", "mock-key-full", "--rules", "AUTH-*"]
try:
    main()
except SystemExit as exc:
    code = exc.code
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"code": code, "loaded": loaded}))
"""
PROBE = """
import json, incident_contract, incident_mock
from incident_contract.document import load_spec, spec_path
from incident_contract.operations import operations
from incident_mock.app import create_app
create_app()
spec = load_spec()
print(json.dumps({"contract": incident_contract.__file__, "mock": incident_mock.__file__, "spec": str(spec_path()),
                  "openapi": spec["openapi"], "operations": len(operations(spec))}))
"""


def run(
    *argv: str | Path, check: bool = True, extra_env: dict[str, str] | None = None, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")} | (extra_env or {})
    # Never from the checkout: its folders would import as namespace packages (`mock/` among them).
    kwargs.setdefault("cwd", WHEELHOUSE.parent)
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env, **kwargs)  # type: ignore[call-overload]
    if check:
        assert done.returncode == 0, f"{argv}: {done.stdout[-1500:]}{done.stderr[-1500:]}"
    return done  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", out, ROOT)
    (built,) = out.glob("incident_contract-*.whl")
    return built


def fresh_venv(where: Path) -> Path:
    assert WHEELHOUSE.is_dir(), f"no wheelhouse at {WHEELHOUSE}: run `make install`"
    run(sys.executable, "-m", "venv", where)
    return where / "bin"


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fresh_venv(tmp_path_factory.mktemp("venv") / "fresh")


def copy_of_the_repository(to: Path) -> Path:
    """The checkout's files as a clone holds them (tracked or not ignored, as they are now), symlinks kept."""
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT).stdout
    for name in filter(None, listed.split("\0")):
        source, target = ROOT / name, to / name
        if source.is_symlink() or source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
    return to


def pip_install(bin_dir: Path, *requirements: str | Path) -> None:
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", "--no-index", "--find-links", WHEELHOUSE,
        *requirements)  # fmt: skip


def test_the_wheel_holds_three_packages_named_after_the_project(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    tops = {name.split("/")[0] for name in names if not name.startswith("incident_contract-")}
    assert tops == set(OURS)
    assert {
        "incident_contract/openapi.yaml",
        "incident_mock/fixtures.yaml",
        "incident_conformance/cli.py",
    } <= names
    assert any(n.startswith("incident_contract/docs/") for n in names)
    guides = sorted(p.name for p in (ROOT / "contract" / "incident_contract" / "guides").glob("*.md"))
    assert guides and {f"incident_contract/guides/{name}" for name in guides} <= names
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("/METADATA"))).decode()
    assert "Provides-Extra: mock" in metadata and "Provides-Extra: conformance" in metadata


def test_installed_beside_pypi_mock_one_extra_at_a_time(wheel: Path, venv: Path) -> None:
    # The suite alone, next to PyPI's mock: both import, and no web framework comes with the suite.
    pip_install(venv, "mock==5.2.0", f"{wheel}[conformance]")
    run(venv / "python", "-c", "from mock import MagicMock; MagicMock()(); import incident_conformance.cli")
    assert run(venv / "python", "-c", "import connexion", check=False).returncode == 1

    missing = run(venv / "incident-mock", "--help", check=False)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines()[-1].endswith(f": {install_lines()['mock']}")

    with serve(create_app()) as url:
        result = json.loads(run(venv / "python", "-c", SUITE, url).stdout.strip().splitlines()[-1])
        assert result["code"] == 0
        assert "incident_mock" not in result["loaded"] and "connexion" not in result["loaded"]

        # Then the mock too: both console scripts run, and the suite still never loads the mock.
        pip_install(venv, f"{wheel}[mock]")
        assert "incident-mock" in run(venv / "incident-mock", "--help").stdout
        assert "--base-url" in run(venv / "incident-conformance", "--help").stdout
        result = json.loads(run(venv / "python", "-c", SUITE, url).stdout.strip().splitlines()[-1])
        assert result["code"] == 0 and "incident_mock" not in result["loaded"]

    # A plain install finds the contract in the wheel, not in the checkout.
    probe = json.loads(run(venv / "python", "-c", PROBE, cwd=venv).stdout.strip().splitlines()[-1])
    site = str(venv.parent / "lib")
    assert (
        probe["contract"].startswith(site)
        and probe["mock"].startswith(site)
        and probe["spec"].startswith(site)
    )
    assert (probe["openapi"], probe["operations"]) == ("3.0.3", len(operations(load_spec())))

    # Uninstalling PyPI's mock leaves ours intact.
    run(venv / "python", "-m", "pip", "uninstall", "--yes", "--quiet", "mock")
    assert run(venv / "python", "-c", "import mock", check=False).returncode == 1
    run(
        venv / "python",
        "-c",
        "import incident_mock.app, incident_contract.document, incident_conformance.cli",
    )


def test_the_readmes_line_installs_the_mock_from_a_clone_with_the_oldest_pip_it_names(tmp_path: Path) -> None:
    bin_dir = fresh_venv(tmp_path / "venv")
    pip_install(bin_dir, f"pip=={MIN_PIP}")
    assert run(bin_dir / "pip", "--version").stdout.startswith(f"pip {MIN_PIP} ")
    clone = copy_of_the_repository(tmp_path / "incident-contract")

    # The line as the README gives it, run by a shell in the clone; pip finds everything in the wheelhouse.
    offline = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(WHEELHOUSE),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    run("sh", "-c", install_lines()["mock"], cwd=clone, extra_env=offline)

    assert "incident-mock" in run(bin_dir / "incident-mock", "--help").stdout
    installed = run(bin_dir / "python", "-c", "import incident_mock; print(incident_mock.__file__)").stdout
    assert installed.startswith(str(tmp_path / "venv" / "lib"))
    # The suite's script names the README's line for its own extra.
    missing = run(bin_dir / "incident-conformance", "--help", check=False)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines()[-1].endswith(f": {install_lines()['conformance']}")
