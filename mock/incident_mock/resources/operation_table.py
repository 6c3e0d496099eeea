"""operationId -> handler: the one table that connects the contract to the code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_mock.resources import (
    custom_fields,
    identity,
    incident_roles,
    incident_statuses,
    incident_types,
    severities,
)
from incident_mock.resources.incidents import operations as incidents

__all__ = ["HANDLERS"]

HANDLERS: dict[str, Callable[..., Any]] = {
    "Utilities V1#Identity": identity.identity,
    "Severities V1#List": severities.list_,
    "Severities V1#Create": severities.create,
    "Severities V1#Show": severities.show,
    "Severities V1#Update": severities.update,
    "Severities V1#Delete": severities.delete,
    "Incident Types V1#List": incident_types.list_,
    "Incident Types V1#Show": incident_types.show,
    "Incident Statuses V1#List": incident_statuses.list_,
    "Incident Statuses V1#Show": incident_statuses.show,
    "Custom Fields V2#List": custom_fields.list_,
    "Custom Fields V2#Show": custom_fields.show,
    "Custom Field Options V1#List": custom_fields.list_options,
    "Incident Roles V2#List": incident_roles.list_,
    "Incident Roles V2#Show": incident_roles.show,
    "Incidents V2#List": incidents.list_,
    "Incidents V2#Create": incidents.create,
    "Incidents V2#Show": incidents.show,
    "Incidents V2#Edit": incidents.edit,
}
