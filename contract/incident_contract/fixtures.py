"""The one schema a fixtures document is checked against, wherever it comes from: the file the mock starts
with (`incident-mock --fixtures`) and a sandbox's own fixtures (the control plane's `Fixtures`).

It is generated, not written per resource: the control plane's `Fixtures` schema (control-plane.yaml) with
each table's objects held to the contract schema its resource declares, and each seed incident's `payload`
to the create operation's body. A complete document (a fixtures file) must hold what `REQUIRED` names; a
sandbox's may hold any table, each replacing the default one.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft4Validator
from referencing import Resource
from referencing.jsonschema import DRAFT4

from incident_contract.document import Spec
from incident_contract.refs import SPEC_URI, registry

__all__ = ["CONTROL_URI", "fixtures_schema", "fixtures_validator"]

Json = dict[str, Any]
CONTROL_URI = "urn:incident-contract:control-plane"
SEED_PAYLOAD = "IncidentsCreatePayloadV2"
# What a complete document (a fixtures file) must hold: the organisation, its keys, and the tables an
# incident cannot be created without (a type, a first status); any other table it lacks starts empty.
REQUIRED = ("organisation", "api_keys", "incident_types", "incident_statuses")


def _pointing(node: Any, base: str) -> Any:
    """A copy of a schema whose local `$ref`s point into the document registered under `base`."""
    if isinstance(node, list):
        return [_pointing(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _pointing(value, base) for key, value in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        out["$ref"] = base + ref
    return out


def fixtures_schema(
    control: Spec,
    tables: Mapping[str, str],
    *,
    complete: bool,
    bases: tuple[str, str] = (SPEC_URI, CONTROL_URI),
) -> Json:
    """The control plane's `Fixtures` with the table -> contract schema map `tables` applied to each
    table's items; `complete` requires what a fixtures file must hold (REQUIRED). Its references point
    into the contract and the control plane at `bases` (("", ""): one document holding both's schemas)."""
    contract_base, control_base = bases
    schema: Json = _pointing(copy.deepcopy(control["components"]["schemas"]["Fixtures"]), control_base)
    properties = schema["properties"]
    for table, name in tables.items():
        held = properties.setdefault(table, {"type": "array"})
        held["items"] = {"$ref": f"{contract_base}#/components/schemas/{name}"}
    seeds = properties.get("incidents")
    if seeds is not None:  # each seed's payload is a create's body
        seed = _pointing(copy.deepcopy(control["components"]["schemas"]["FixtureIncident"]), control_base)
        seed["properties"]["payload"] = {"$ref": f"{contract_base}#/components/schemas/{SEED_PAYLOAD}"}
        seeds["items"] = seed
    schema["additionalProperties"] = False  # the tables named above and the declared ones, nothing else
    if complete:
        schema["required"] = list(REQUIRED)
    return schema


def fixtures_validator(
    spec: Spec, control: Spec, tables: Mapping[str, str], *, complete: bool
) -> Draft4Validator:
    """A validator of `fixtures_schema`, its references resolved in the contract and the control plane."""
    both = registry(spec).with_resource(
        CONTROL_URI, Resource.from_contents(control, default_specification=DRAFT4)
    )
    return Draft4Validator(fixtures_schema(control, tables, complete=complete), registry=both)
