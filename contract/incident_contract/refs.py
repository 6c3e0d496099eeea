"""The one `$ref` resolver: local references inside the contract, and jsonschema validators that follow them.

Every package resolves through here: the mock's parameter tables, the conformance suite's body schemas
and the docs' schema views.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from incident_contract.document import Spec

__all__ = ["SPEC_URI", "ref_name", "registry", "resolve", "validator"]

Json = dict[str, Any]
SPEC_URI = "urn:incident-contract:openapi"


def ref_name(ref: str) -> str:
    """The last segment of a local $ref: '#/components/schemas/Foo' -> 'Foo'."""
    return ref.rsplit("/", 1)[-1]


def resolve(spec: Spec, node: Any) -> Any:
    """Follow local $refs (repeatedly) until a concrete object is reached."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = str(node["$ref"])
        if not ref.startswith("#/") or ref in seen:
            raise ValueError(f"cannot resolve $ref {ref!r}")
        seen.add(ref)
        target: Any = spec
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


_REGISTRIES: dict[int, tuple[Spec, Registry[Any]]] = {}


def registry(spec: Spec) -> Registry[Any]:
    """A referencing registry holding the whole document under SPEC_URI (memoised per document)."""
    hit = _REGISTRIES.get(id(spec))
    if hit is None or hit[0] is not spec:
        resource = Resource.from_contents(spec, default_specification=DRAFT4)
        hit = _REGISTRIES[id(spec)] = (spec, Registry().with_resource(SPEC_URI, resource))
    return hit[1]


def validator(spec: Spec, schema: Json | str) -> Draft4Validator:
    """A Draft 4 validator for a schema of the document, or for the component schema named `schema`.

    Local `$ref`s anywhere inside it resolve against the whole document.
    """
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
    return Draft4Validator(_absolute(schema), registry=registry(spec))


def _absolute(node: Any) -> Any:
    """A copy of a schema whose local `$ref`s point into the registered document."""
    if isinstance(node, list):
        return [_absolute(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _absolute(value) for key, value in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        out["$ref"] = SPEC_URI + ref
    return out
