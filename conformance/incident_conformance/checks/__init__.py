"""The rule families. Importing this package registers every rule (run order: rules.FAMILIES)."""

from __future__ import annotations

from incident_conformance.checks import (  # noqa: F401  (imported for their registrations)
    alerts,
    auth,
    enums,
    errors,
    idempotency,
    oncall,
    pagination,
    required,
    resources,
    schema,
    visibility,
    webhooks,
)
