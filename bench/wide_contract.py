"""A wide contract for the routing benchmark: openapi.yaml plus synthetic resources, 5 operations each.

Each synthetic resource ("gadget00", "gadget01", ...) is declared in `x-resources` only, like any other
resource, with five operations (list, create, show, update, delete) at paths of its own, each made from a
severity operation (its scopes, parameters and error answers). No Python is written for them: the mock
serves them from the declaration. `python bench/wide_contract.py OUT.yaml [N]` writes the contract with N
resources (default 36: the contract's operations and 180 more); `python bench/wide_contract.py --serve
OUT.yaml --port P` runs the mock on it (the bench's "mock, wide contract" server).
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

import yaml

from incident_contract.document import load_spec

Json = dict[str, Any]
RESOURCES = 36


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(
    template: Json, opid: str, tag: str, status: str, result: str | None, body: str | None
) -> Json:
    op = copy.deepcopy(template)
    op.update(operationId=opid, tags=[tag], summary=opid, description=f"{opid}, from its declaration.")
    errors = {k: v for k, v in op["responses"].items() if not k.startswith("2")}
    success: Json = {"description": "Done."}
    if result is not None:
        success["content"] = {"application/json": {"schema": _ref(result)}}
    op["responses"] = {status: success, **errors}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    return op


def add_resource(spec: Json, index: int) -> None:
    """One synthetic resource, its schemas, its five operations and its declaration."""
    one, many, title = f"gadget{index:02d}", f"gadgets{index:02d}", f"Gadget{index:02d}"
    tag = f"{title}s V1"
    text = {"type": "string", "minLength": 1, "maxLength": 50}
    stamp = {"type": "string", "format": "date-time"}
    spec["components"]["schemas"].update(
        {
            f"{title}V1": {
                "type": "object",
                "required": ["id", "name", "created_at", "updated_at"],
                "properties": {
                    "id": {"type": "string"},
                    "name": text,
                    "created_at": stamp,
                    "updated_at": stamp,
                },
                "additionalProperties": False,
            },
            f"{title}PayloadV1": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": text},
                "additionalProperties": False,
            },
            f"{title}ResultV1": {
                "type": "object",
                "required": [one],
                "properties": {one: _ref(f"{title}V1")},
            },
            f"{title}ListResultV1": {
                "type": "object",
                "required": [many],
                "properties": {many: {"type": "array", "items": _ref(f"{title}V1")}},
            },
        }
    )
    sev_many, sev_one = spec["paths"]["/v1/severities"], spec["paths"]["/v1/severities/{id}"]
    ids = {verb: f"{tag}#{verb}" for verb in ("List", "Create", "Show", "Update", "Delete")}
    spec["paths"][f"/v1/{many}"] = {
        "get": _operation(sev_many["get"], ids["List"], tag, "200", f"{title}ListResultV1", None),
        "post": _operation(
            sev_many["post"], ids["Create"], tag, "201", f"{title}ResultV1", f"{title}PayloadV1"
        ),
    }
    spec["paths"][f"/v1/{many}/{{id}}"] = {
        "get": _operation(sev_one["get"], ids["Show"], tag, "200", f"{title}ResultV1", None),
        "put": _operation(sev_one["put"], ids["Update"], tag, "200", f"{title}ResultV1", f"{title}PayloadV1"),
        "delete": _operation(sev_one["delete"], ids["Delete"], tag, "204", None, None),
    }
    spec["tags"].append({"name": tag, "description": f"{title}s, declared in x-resources only."})
    spec["x-resources"][many] = {
        "kind": one,
        "schema": f"{title}V1",
        "envelope": {"one": one, "many": many},
        "operations": {verb.lower(): opid for verb, opid in ids.items()},
        "fills": {"id": "id", "created_at": "now", "updated_at": "touched"},
        "order": ["name"],
        "unique": ["name"],
    }


def wide_spec(resources: int = RESOURCES) -> Json:
    spec = load_spec()
    for index in range(resources):
        add_resource(spec, index)
    return spec


def operation_count(spec: Json) -> int:
    verbs = {"get", "put", "post", "delete", "patch"}
    return sum(1 for item in spec["paths"].values() for verb in item if verb in verbs)


def write(path: Path, resources: int = RESOURCES) -> int:
    """Write the contract; returns its number of operations."""
    spec = wide_spec(resources)
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return operation_count(spec)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("resources", type=int, nargs="?", default=RESOURCES)
    parser.add_argument("--serve", action="store_true", help="run the mock on the contract at OUT")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-incidents", type=int, default=100_000)
    opts = parser.parse_args()
    if not opts.serve:
        print(f"{write(opts.out, opts.resources)} operations written to {opts.out}")
        return
    from incident_mock.domain.limits import Limits
    from incident_mock.server import MockServer

    limits = Limits(max_incidents=opts.max_incidents, max_total_incidents=max(opts.max_incidents, 200_000))
    MockServer(spec_file=opts.out, port=opts.port, limits=limits).run()


if __name__ == "__main__":
    main()
