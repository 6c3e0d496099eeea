"""The testing kit's webhook API: a sandbox's endpoints over the control plane (`sandbox.webhooks`).

    endpoint = sandbox.webhooks.register(receiver.url, time_scale=0.0001)
    endpoint.secret                      # whsec_..., to verify deliveries with
    [message] = endpoint.messages()      # the delivery log: attempts, state, next attempt
    endpoint.redeliver(message.id)
    endpoint.delete()

`AsyncWebhooks` / `AsyncWebhookEndpoint` are the same over `httpx.AsyncClient`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["AsyncWebhookEndpoint", "AsyncWebhooks", "WebhookEndpoint", "WebhookMessage", "Webhooks"]


Check = Callable[[httpx.Response], httpx.Response]  # raises the kit's ControlPlaneError for an error answer


@dataclass(frozen=True)
class WebhookMessage:
    """One message of an endpoint's delivery log (the control plane's `WebhookMessage`)."""

    id: str
    event_type: str
    created_at: str
    state: str  # pending, delivered, failed
    next_attempt_at: str | None
    error: str | None
    attempts: list[dict[str, Any]] = field(repr=False)
    payload: Any = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WebhookMessage:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


def _registration(
    url: str,
    event_types: Sequence[str] | None,
    secret: str | None,
    time_scale: float | None,
    attempt_timeout: float | None,
    out_of_order: bool,
) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url}
    optional = {
        "event_types": list(event_types) if event_types is not None else None,
        "secret": secret,
        "time_scale": time_scale,
        "attempt_timeout_seconds": attempt_timeout,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if out_of_order:
        body["out_of_order"] = True
    return body


class _EndpointData:
    def __init__(self, path: str, data: Mapping[str, Any], check: Check) -> None:
        self._checked = check
        webhook = data["webhook"]
        self.id: str = webhook["id"]
        self.url: str = webhook["url"]
        self.secret: str = webhook["secret"]
        self.event_types: list[str] = webhook["event_types"]
        self.info: Mapping[str, Any] = webhook
        self._path = f"{path}/{self.id}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} -> {self.url}>"


class WebhookEndpoint(_EndpointData):
    def __init__(self, client: httpx.Client, path: str, data: Mapping[str, Any], check: Check) -> None:
        super().__init__(path, data, check)
        self._client = client

    def messages(self, limit: int = 1000) -> list[WebhookMessage]:
        """The delivery log, oldest first."""
        answer = self._checked(self._client.get(f"{self._path}/messages", params={"limit": limit})).json()
        return [WebhookMessage.from_json(m) for m in answer["messages"]]

    def redeliver(self, message_id: str) -> WebhookMessage:
        """One more attempt of the message, at once (same webhook-id and body, fresh signature)."""
        answer = self._checked(self._client.post(f"{self._path}/messages/{message_id}/actions/redeliver"))
        return WebhookMessage.from_json(answer.json()["message"])

    def delete(self) -> None:
        """Forget the endpoint; its deliveries stop (already deleted is fine)."""
        response = self._client.delete(self._path)
        if response.status_code != 404:
            self._checked(response)


class Webhooks:
    """`sandbox.webhooks`: register and list the sandbox's endpoints."""

    def __init__(self, client: httpx.Client, sandbox_path: str, check: Check) -> None:
        self._client, self._path, self._checked = client, f"{sandbox_path}/webhooks", check

    def register(
        self,
        url: str,
        event_types: Sequence[str] | None = None,
        secret: str | None = None,
        time_scale: float | None = None,
        *,
        attempt_timeout: float | None = None,
        out_of_order: bool = False,
    ) -> WebhookEndpoint:
        body = _registration(url, event_types, secret, time_scale, attempt_timeout, out_of_order)
        answer = self._checked(self._client.post(self._path, json=body)).json()
        return WebhookEndpoint(self._client, self._path, answer, self._checked)

    def list(self) -> list[WebhookEndpoint]:
        answer = self._checked(self._client.get(self._path)).json()
        return [
            WebhookEndpoint(self._client, self._path, {"webhook": w}, self._checked)
            for w in answer["webhooks"]
        ]

    def get(self, endpoint_id: str) -> WebhookEndpoint:
        answer = self._checked(self._client.get(f"{self._path}/{endpoint_id}")).json()
        return WebhookEndpoint(self._client, self._path, answer, self._checked)


class AsyncWebhookEndpoint(_EndpointData):
    def __init__(self, client: httpx.AsyncClient, path: str, data: Mapping[str, Any], check: Check) -> None:
        super().__init__(path, data, check)
        self._client = client

    async def messages(self, limit: int = 1000) -> list[WebhookMessage]:
        response = await self._client.get(f"{self._path}/messages", params={"limit": limit})
        return [WebhookMessage.from_json(m) for m in self._checked(response).json()["messages"]]

    async def redeliver(self, message_id: str) -> WebhookMessage:
        response = await self._client.post(f"{self._path}/messages/{message_id}/actions/redeliver")
        return WebhookMessage.from_json(self._checked(response).json()["message"])

    async def delete(self) -> None:
        response = await self._client.delete(self._path)
        if response.status_code != 404:
            self._checked(response)


class AsyncWebhooks:
    def __init__(self, client: httpx.AsyncClient, sandbox_path: str, check: Check) -> None:
        self._client, self._path, self._checked = client, f"{sandbox_path}/webhooks", check

    async def register(
        self,
        url: str,
        event_types: Sequence[str] | None = None,
        secret: str | None = None,
        time_scale: float | None = None,
        *,
        attempt_timeout: float | None = None,
        out_of_order: bool = False,
    ) -> AsyncWebhookEndpoint:
        body = _registration(url, event_types, secret, time_scale, attempt_timeout, out_of_order)
        answer = self._checked(await self._client.post(self._path, json=body)).json()
        return AsyncWebhookEndpoint(self._client, self._path, answer, self._checked)

    async def list(self) -> list[AsyncWebhookEndpoint]:
        answer = self._checked(await self._client.get(self._path)).json()
        return [
            AsyncWebhookEndpoint(self._client, self._path, {"webhook": w}, self._checked)
            for w in answer["webhooks"]
        ]

    async def get(self, endpoint_id: str) -> AsyncWebhookEndpoint:
        answer = self._checked(await self._client.get(f"{self._path}/{endpoint_id}")).json()
        return AsyncWebhookEndpoint(self._client, self._path, answer, self._checked)
