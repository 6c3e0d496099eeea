"""operationId -> handler: the one table that connects the contract to the code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mock.handlers import incidents, settings, severities, utilities

__all__ = ["HANDLERS"]

HANDLERS: dict[str, Callable[..., Any]] = {
    "Utilities V1#Identity": utilities.identity,
    "Severities V1#List": severities.list_,
    "Severities V1#Create": severities.create,
    "Severities V1#Show": severities.show,
    "Severities V1#Update": severities.update,
    "Severities V1#Delete": severities.delete,
    "Incident Types V1#List": settings.list_incident_types,
    "Incident Types V1#Show": settings.show_incident_type,
    "Incident Statuses V1#List": settings.list_incident_statuses,
    "Incident Statuses V1#Show": settings.show_incident_status,
    "Custom Fields V2#List": settings.list_custom_fields,
    "Custom Fields V2#Show": settings.show_custom_field,
    "Custom Field Options V1#List": settings.list_custom_field_options,
    "Incident Roles V2#List": settings.list_incident_roles,
    "Incident Roles V2#Show": settings.show_incident_role,
    "Incidents V2#List": incidents.list_,
    "Incidents V2#Create": incidents.create,
    "Incidents V2#Show": incidents.show,
    "Incidents V2#Edit": incidents.edit,
}
