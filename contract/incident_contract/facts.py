"""Facts of the contract that both the mock and the suite need, each read from where the document states it.

A value a schema states (page-size bounds) is read from that schema. A fact no schema can state is an
`x-` extension of the contract:
- `x-error-types` (top level): the ErrorResponse `type` of each error status;
- `x-max-body-bytes` (top level): the largest request body the API reads;
- `x-max-query-parameters` (top level): the most key=value pairs a query string may hold;
- `x-idempotency-window-seconds` (on the incident create operation): how long an idempotency key is
  remembered;
- `x-status-category-moves` (on the incident edit operation): the status categories an incident may move
  to from each category;
- `x-listed-by-default` (on the incident list's `mode` parameter): the modes listed when no mode filter
  is given;
- `x-value-aliases` (on the incident list's `status_category` parameter): the status categories' newer
  names (`active`), each mapped to the published name it stands for (`live`).
"""

from __future__ import annotations

from incident_contract.document import Spec
from incident_contract.operations import operations

__all__ = [
    "CREATE_INCIDENT",
    "EDIT_INCIDENT",
    "LIST_INCIDENTS",
    "declared_errors",
    "error_types",
    "idempotency_window_seconds",
    "listed_by_default",
    "max_body_bytes",
    "max_query_parameters",
    "page_size_bounds",
    "status_category_aliases",
    "status_moves",
]

LIST_INCIDENTS = "Incidents V2#List"
CREATE_INCIDENT = "Incidents V2#Create"
EDIT_INCIDENT = "Incidents V2#Edit"


def error_types(spec: Spec) -> dict[int, str]:
    """Error status -> the `type` its ErrorResponse carries."""
    return {int(status): entry["type"] for status, entry in spec["x-error-types"].items()}


def declared_errors(spec: Spec) -> dict[str, frozenset[int]]:
    """operationId -> the error statuses (4xx and 5xx) its responses declare that have an `x-error-types`
    entry: the statuses a client of that operation must be ready for."""
    typed = error_types(spec)
    out = {}
    for op in operations(spec).values():
        statuses = (int(s) for s in op.raw["responses"] if s.isdigit())
        out[op.id] = frozenset(s for s in statuses if s >= 400 and s in typed)
    return out


def max_body_bytes(spec: Spec) -> int:
    return int(spec["x-max-body-bytes"])


def max_query_parameters(spec: Spec) -> int:
    return int(spec["x-max-query-parameters"])


def idempotency_window_seconds(spec: Spec) -> int:
    """How long an API key's idempotency key is remembered after its create."""
    return int(operations(spec)[CREATE_INCIDENT].raw["x-idempotency-window-seconds"])


def status_moves(spec: Spec) -> dict[str, frozenset[str]]:
    """Status category -> the other categories an edit may move an incident to."""
    moves = operations(spec)[EDIT_INCIDENT].raw["x-status-category-moves"]
    return {category: frozenset(targets) for category, targets in moves.items()}


def listed_by_default(spec: Spec) -> tuple[str, ...]:
    """The incident modes the list returns when the query names none."""
    mode = operations(spec)[LIST_INCIDENTS].parameter("mode")
    return tuple(mode["x-listed-by-default"])


def status_category_aliases(spec: Spec) -> dict[str, str]:
    """A status category's newer name -> the published name it stands for (`active` -> `live`)."""
    aliases = operations(spec)[LIST_INCIDENTS].parameter("status_category")["x-value-aliases"]
    return {str(alias): str(name) for alias, name in aliases.items()}


def page_size_bounds(spec: Spec, operation_id: str) -> tuple[int, int, int]:
    """(minimum, maximum, default) of an operation's page_size parameter."""
    schema = operations(spec)[operation_id].parameter("page_size")["schema"]
    return int(schema["minimum"]), int(schema["maximum"]), int(schema["default"])
