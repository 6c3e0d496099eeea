"""People and access: users (Users V2), API keys (API Keys V1), secrets (Secrets V2), the IP allowlist
(IPAllowlists V1) and the contract as JSON (Utilities V1#OpenAPIV3).

`OPERATIONS` is the behaviour module `people`; `API_KEYS` the behaviour module `api_keys`, which the API
keys' declaration (x-resources) names.
"""

from __future__ import annotations

from collections.abc import Callable

from incident_mock.engine.context import Reply
from incident_mock.resources.people import allowlist, api_keys, document, secrets, users

__all__ = ["API_KEYS", "OPERATIONS"]

OPERATIONS: dict[str, Callable[..., Reply]] = {
    **users.OPERATIONS,
    **secrets.OPERATIONS,
    **allowlist.OPERATIONS,
    **document.OPERATIONS,
}
API_KEYS: dict[str, Callable[..., Reply]] = dict(api_keys.OPERATIONS)
