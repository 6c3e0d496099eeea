"""The packaged contract: where openapi.yaml is, loading it, and checking that it is a valid document.

The mock's control plane has its own OpenAPI document beside the contract, control-plane.yaml (the
mock's API under /_mock/, outside the contract): `control_spec_path()` and `load_control_spec()`.

Everything in this package reads openapi.yaml; nothing restates it. Framework-free, so the mock, the
conformance suite and the docs generator can all use it.

Parsing the contract's YAML takes about half a second; the JSON of what it parsed to takes a hundredth.
So a parsed document is kept as JSON in a cache directory (`INCIDENT_CONTRACT_CACHE`, default
`$XDG_CACHE_HOME/incident-contract` or `~/.cache/incident-contract`; `off` keeps none), named by the
SHA-256 of the file's bytes: a changed file is parsed again, and what is read back is what the strict
parse made of those very bytes. A cache that cannot be read or written is passed over.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Hashable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "HTTP_METHODS",
    "Spec",
    "StrictLoader",
    "control_spec_path",
    "load_control_spec",
    "load_spec",
    "spec_path",
    "validate",
]

Spec = dict[str, Any]
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def spec_path() -> Path:
    """The packaged openapi.yaml (the repo-root file itself in an editable install)."""
    with resources.as_file(resources.files("incident_contract") / "openapi.yaml") as path:
        return Path(path)


def control_spec_path() -> Path:
    """The packaged control-plane.yaml: the mock's control plane (/_mock/), a document of its own."""
    with resources.as_file(resources.files("incident_contract") / "control-plane.yaml") as path:
        return Path(path)


class StrictLoader(yaml.CSafeLoader):
    """PyYAML's safe loader over libyaml (several times faster than the pure-Python one on the contract),
    refusing a mapping that names a key twice (PyYAML's own keeps the last one silently, so a document
    would say one thing to a reader and another to the mock)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


CACHE = "INCIDENT_CONTRACT_CACHE"


def _cache_dir() -> Path | None:
    chosen = os.environ.get(CACHE)
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(home) / "incident-contract"


def _cached(raw: bytes) -> tuple[Path | None, Spec | None]:
    """Where the parse of these bytes is kept, and the parse when it is there."""
    folder = _cache_dir()
    if folder is None:
        return None, None
    place = folder / f"{hashlib.sha256(raw).hexdigest()}.json"
    try:
        found = json.loads(place.read_bytes())
    except (OSError, ValueError):
        return place, None
    return place, found if isinstance(found, dict) else None


def _keep(place: Path, doc: Spec) -> None:
    """Write the parse where `_cached` looks, atomically; nothing when JSON would not give it back whole."""
    try:
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        if json.loads(text) != doc:  # a YAML date or a number key would come back as something else
            return
        place.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=place.parent, suffix=".tmp")
    except (OSError, TypeError, ValueError):
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(temporary, place)
    except OSError:
        Path(temporary).unlink(missing_ok=True)


@functools.cache
def _load(path: str) -> Spec:
    raw = Path(path).read_bytes()
    place, doc = _cached(raw)
    if doc is not None:
        return doc
    parsed: Spec = yaml.load(raw.decode("utf-8"), Loader=StrictLoader)
    if place is not None and isinstance(parsed, dict):
        _keep(place, parsed)
    return parsed


def load_spec(path: Path | None = None) -> Spec:
    """The contract as a dict: the parsed file is cached, and each caller gets its own deep copy.

    Libraries that take the document (Schemathesis among them) may rewrite parts of it in place;
    a shared copy would let one consumer change what every other one reads.
    """
    return copy.deepcopy(_load(str(Path(path or spec_path()).resolve())))


def load_control_spec() -> Spec:
    """The control plane's document as a dict, a deep copy per caller like `load_spec`."""
    return copy.deepcopy(_load(str(control_spec_path().resolve())))


def validate(spec: Spec) -> None:
    """Raise when `spec` is not a valid OpenAPI 3.0 document or lacks the extensions this project reads."""
    from openapi_spec_validator import validate as openapi_validate  # slow to import; only here

    openapi_validate(spec)
    if not str(spec.get("openapi", "")).startswith("3.0."):
        raise ValueError("the contract must be OpenAPI 3.0.x (Connexion 3.3 refuses 3.1)")
    missing = [name for name in ("x-api-key-roles", "x-error-types", "x-max-body-bytes") if name not in spec]
    if missing:
        raise ValueError(f"the document lacks {', '.join(missing)}")
