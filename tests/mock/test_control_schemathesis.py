"""Schemathesis over the control plane's own document (control-plane.yaml), in-process, zero failures.

The same engine run as for the contract (tests/mock/test_schemathesis.py): examples, coverage, fuzzing and
the stateful phase following the document's links (create -> show, reset, journal, delete), every
built-in check, bounded by max_examples and a seed. Run-wide, every operation must have answered a 2xx.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from incident_contract.document import load_control_spec
from incident_mock.app import create_app
from incident_mock.domain.limits import Limits
from incident_mock.kit.webhooks.targets import is_loopback_host
from tests.mock.test_schemathesis import Run, execute

SEED = 20260102
MAX_EXAMPLES = 40


def config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "suppress-health-check": ["all"],
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"max-steps": 20}},
            "checks": {
                # A schema-valid request is not always an acceptable one: a sandbox id that does not exist is
                # 404, and fixtures that match the document but not the contract's schemas (or a cap) are 422.
                "positive_data_acceptance": {"expected-statuses": ["2XX", "404", "422"]},
            },
            # A fault is removed by DELETE (which Schemathesis knows), but also by a reset of its sandbox
            # (POST .../actions/reset) and by POST .../faults/actions/clear, which it cannot know: a 404 for
            # a fault armed before one of those is right, not a resource that failed to appear.
            "operations": [
                {
                    "include-operation-id": operation,
                    "checks": {"ensure_resource_availability": {"enabled": False}},
                }
                for operation in ("Faults#Show", "Faults#Remove")
            ],
        }
    )


@pytest.fixture(scope="module")
def control_app() -> Any:
    return create_app(validate_responses=True, limits=Limits(max_sandboxes=200))


@pytest.fixture(scope="module")
def control_run(control_app: Any) -> Run:
    run = execute(schemathesis.openapi.from_asgi("/control-plane.json", control_app, config=config()))
    print(f"\nSchemathesis (control plane): {sum(run.cases.values())} cases ({dict(run.cases)})")
    return run


def test_the_webhook_urls_it_registered_are_loopback_and_nothing_was_sent(
    control_app: Any, control_run: Run
) -> None:
    endpoints = [e for sandbox in control_app.sandboxes for e in sandbox.webhooks.endpoints.values()]
    assert endpoints, "the run registered no endpoint that is still there"
    assert all(is_loopback_host(urlsplit(e.url).hostname or "") for e in endpoints)
    # the only messages the control plane makes: the shift changes of the fixture schedule that its clock
    # moves passed (sent to those loopback URLs)
    logged = {m.event_type for e in endpoints for m in e.log.messages.values()}
    assert logged <= {"schedule.shift_change_v1"}, logged
    assert not control_app.webhooks.tasks


def test_schemathesis_finds_no_failures_in_the_control_plane(control_run: Run) -> None:
    assert not control_run.failures, "\n\n".join(control_run.failures)


def test_every_control_operation_answered_a_2xx_and_none_a_5xx(control_run: Run) -> None:
    spec = load_control_spec()
    expected = {
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert len(expected) == 27
    assert expected <= set(control_run.statuses), sorted(expected - set(control_run.statuses))
    # Redelivering needs a message, and acknowledging a triggered escalation, and both come from the
    # contract's API, which this document does not drive (tests/mock/test_webhooks_control.py redelivers,
    # tests/mock/test_oncall.py acknowledges).
    needs_a_message = {
        "POST /_mock/sandboxes/{sandbox_id}/webhooks/{endpoint_id}/messages/{message_id}/actions/redeliver",
        "POST /_mock/sandboxes/{sandbox_id}/escalations/{escalation_id}/actions/acknowledge",
    }
    no_success = {
        label: dict(codes)
        for label, codes in control_run.statuses.items()
        if label in expected - needs_a_message and not any(200 <= c < 300 for c in codes)
    }
    assert not no_success
    assert not {label: dict(c) for label, c in control_run.statuses.items() if any(s >= 500 for s in c)}
