"""The rule families. Importing this package registers every rule (run order: rules.FAMILIES)."""

from __future__ import annotations

from incident_conformance.checks import (  # noqa: F401  (imported for their registrations)
    auth,
    enums,
    errors,
    idempotency,
    pagination,
    required,
    resources,
    schema,
    visibility,
    webhooks,
)
