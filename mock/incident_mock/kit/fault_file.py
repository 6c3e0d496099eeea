"""`incident-mock --faults FILE`: faults armed at start from a YAML file, for a mock started from a shell.

The file is a list; each item is the control plane's FaultPayload (validated against control-plane.yaml's
schema, so the file and `POST /_mock/sandboxes/{id}/faults` take the same fields and bounds) plus an
optional `sandbox` (default `default`, the only sandbox that exists at start):

    - operation_id: Incidents V2#Create
      kind: after_commit
      times: 2
    - kind: error
      status: 429
      retry_after: 2
      probability: 0.1
      seed: 7

Anything wrong is `FaultFileError`, whose message is a one-line reason naming the item.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from incident_contract.document import load_control_spec
from incident_contract.refs import validator
from incident_mock.domain.errors import ApiError
from incident_mock.kit.faults import MAX_FAULTS, ArmedFault
from incident_mock.kit.sandboxes import DEFAULT_ID, Sandboxes

__all__ = ["FaultFileError", "arm_file"]

NOT_A_LIST = "the file must hold a YAML list of faults (at most {limit})"
NOT_A_MAPPING = "item {n}: a fault is a mapping of its fields"
BAD_SANDBOX = "item {n}: sandbox must be a sandbox id (a string)"
INVALID = "item {n}: {where}{message}"


class FaultFileError(Exception):
    """The faults file cannot be used; the message says why, in one line."""


def arm_file(sandboxes: Sandboxes, path: Path) -> list[ArmedFault]:
    """Arm every fault the file describes, in order; nothing is armed unless all are valid."""
    try:
        items = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise FaultFileError(f"cannot read it: {exc}") from None
    except yaml.YAMLError as exc:
        raise FaultFileError(f"not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(items, list) or len(items) > MAX_FAULTS:
        raise FaultFileError(NOT_A_LIST.format(limit=MAX_FAULTS))
    check = validator(load_control_spec(), "FaultPayload")
    planned: list[tuple[int, str, dict[str, Any]]] = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise FaultFileError(NOT_A_MAPPING.format(n=n))
        body = dict(item)
        sandbox = body.pop("sandbox", DEFAULT_ID)
        if not isinstance(sandbox, str):
            raise FaultFileError(BAD_SANDBOX.format(n=n))
        for error in sorted(check.iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
            where = "".join(f"{part}: " for part in error.absolute_path)
            raise FaultFileError(INVALID.format(n=n, where=where, message=error.message[:200]))
        planned.append((n, sandbox, body))
    armed: list[ArmedFault] = []
    try:
        for n, sandbox_id, body in planned:
            try:
                sandbox = sandboxes.get(sandbox_id)
                armed.append(sandbox.faults.arm(body, sandbox.seed))
            except ApiError as exc:
                raise FaultFileError(INVALID.format(n=n, where="", message=str(exc))) from None
    except FaultFileError:
        for sandbox in sandboxes:
            sandbox.faults.clear()
        raise
    return armed
