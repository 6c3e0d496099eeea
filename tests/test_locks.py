"""The locks in requirements/ hold every dependency that pyproject.toml names, at versions it allows.

`make run`, `make install` and CI install from the locks alone, so a dependency added to pyproject.toml
without `make lock` would be missing there: this says which, without asking the registry.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# Each lock and what it is resolved from: extras of pyproject.toml, and for the wheelhouse its own input.
LOCKS = {
    "mock.txt": (("mock",), None),
    "dev.txt": (("dev",), None),
    "wheelhouse.txt": (("all",), "wheelhouse.in"),
}


def pinned(lock: str) -> dict[str, set[Version]]:
    """Each package of a lock and its versions (two where markers split one by Python version)."""
    pins: dict[str, set[Version]] = {}
    for line in (ROOT / "requirements" / lock).read_text().splitlines():
        if re.match(r"[A-Za-z0-9]", line):
            requirement = Requirement(line.removesuffix("\\").strip())
            (spec,) = requirement.specifier
            assert spec.operator == "==", f"{lock}: {line!r} is not an exact pin"
            pins.setdefault(canonicalize_name(requirement.name), set()).add(Version(spec.version))
    return pins


def wanted(extras: tuple[str, ...], extra_input: str | None) -> list[Requirement]:
    """The requirements of the core and `extras`, following the project's extras that name the project."""
    found = [Requirement(r) for r in PROJECT["dependencies"]]
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        seen.add(extra)
        for raw in PROJECT["optional-dependencies"][extra]:
            requirement = Requirement(raw)
            if canonicalize_name(requirement.name) == canonicalize_name(PROJECT["name"]):
                todo.extend(requirement.extras - seen)
            else:
                found.append(requirement)
    if extra_input:
        lines = (ROOT / "requirements" / extra_input).read_text().splitlines()
        found += [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    return found


def unlocked(requirements: list[Requirement], pins: dict[str, set[Version]]) -> dict[str, list[str]]:
    """The requirements that no pinned version satisfies, each with the versions pinned (if any)."""
    return {
        str(requirement): sorted(map(str, pins.get(canonicalize_name(requirement.name), ())))
        for requirement in requirements
        if not any(
            requirement.specifier.contains(v) for v in pins.get(canonicalize_name(requirement.name), ())
        )
    }


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_each_requirement_is_locked_at_a_version_it_allows(lock: str) -> None:
    assert unlocked(wanted(*LOCKS[lock]), pinned(lock)) == {}, (
        f"requirements/{lock} is out of date with pyproject.toml: run `make lock`"
    )


@pytest.mark.parametrize("lock", ["mock.txt", "wheelhouse.txt"])
def test_the_locks_agree_with_the_development_lock(lock: str) -> None:
    dev = pinned("dev.txt")
    differ = {
        name: (versions, dev[name])
        for name, versions in pinned(lock).items()
        if dev.get(name, versions) != versions
    }
    assert differ == {}


def test_a_requirement_missing_or_outside_its_range_is_found() -> None:
    # The check itself, on the mock's lock: the suite's library is not there, and connexion is pinned.
    pins = pinned("mock.txt")
    (connexion,) = pins["connexion"]
    found = unlocked(
        [Requirement(r) for r in ("schemathesis", f"connexion>{connexion}", f"connexion=={connexion}")], pins
    )
    assert found == {"schemathesis": [], f"connexion>{connexion}": [str(connexion)]}
    # The development extra reaches the suite's and the mock's requirements through incident-contract[all].
    assert {"schemathesis", "connexion", "pytest"} <= {r.name for r in wanted(("dev",), None)}
    assert "schemathesis" not in {r.name for r in wanted(("mock",), None)}
