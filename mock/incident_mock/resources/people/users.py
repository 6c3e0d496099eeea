"""Users V2: the list of the organisation's users (the `users` table, UserWithRolesV2; the declaration
serves show), each user's notification methods and rules, and the paging provider each is paged with.

The list leaves out deactivated users unless `include_inactive` asks for them, which a declaration cannot
say. Methods and rules are the `notification_methods` and `notification_rules` tables, each row naming
its user in `user_id`; a chosen paging provider is a row of `paging_providers` whose id is the user's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_mock.engine.context import Ctx, Json, Reply
from incident_mock.engine.paging import page

__all__ = ["OPERATIONS"]

UNREDACTED = "notification_methods.view_unredacted"  # the scope that sees a phone number whole
MASK = "•"
SHOWN = 4  # a masked phone number shows its last four digits
USER_FIELDS = (
    "id", "name", "email", "slack_user_id", "role", "base_role", "custom_roles", "seats", "is_active",
)  # fmt: skip
METHOD_FIELDS = ("id", "method_type", "address", "is_usable", "phone_details")
RULE_FIELDS = ("id", "rule_type", "method_type", "method_target", "delay_seconds", "app", "phone")


def render(user: Json) -> Json:
    return {k: user[k] for k in USER_FIELDS if k in user}


def _user(ctx: Ctx, user_id: str) -> Json:
    return ctx.store.get("users", user_id)


def list_(
    ctx: Ctx,
    page_size: int,
    email: str | None = None,
    slack_user_id: str | None = None,
    include_inactive: bool | None = None,
    after: str | None = None,
) -> Reply:
    wanted = {"email": email, "slack_user_id": slack_user_id}
    rows = [
        u
        for u in ctx.store.rows("users")
        if all(u.get(k) == v for k, v in wanted.items() if v is not None)
        and (include_inactive or u.get("is_active", True))
    ]
    found, meta = page(rows, page_size, after)
    return {"users": [render(u) for u in found], "pagination_meta": meta}, 200


def _mask(address: str) -> str:
    digits = [c for c in address if c.isdigit()]
    return MASK * max(len(digits) - SHOWN, 0) + "".join(digits[-SHOWN:])


def notification_methods(ctx: Ctx, user_id: str) -> Reply:
    _user(ctx, user_id)
    unredacted = UNREDACTED in ctx.scopes
    found = []
    for row in ctx.store.rows("notification_methods"):
        if row.get("user_id") != user_id:
            continue
        method = {k: row[k] for k in METHOD_FIELDS if k in row}
        if method["method_type"] == "phone" and not unredacted:
            method["address"] = _mask(str(method["address"]))
        found.append(method)
    return {"notification_methods": found}, 200


def notification_rules(ctx: Ctx, user_id: str) -> Reply:
    _user(ctx, user_id)
    rules = [
        {k: row[k] for k in RULE_FIELDS if k in row}
        for row in ctx.store.rows("notification_rules")
        if row.get("user_id") == user_id
    ]
    return {"notification_rules": rules}, 200


def paging_provider(ctx: Ctx, user_id: str) -> Reply:
    user = _user(ctx, user_id)
    chosen: Any = ctx.store.table("paging_providers").get(user_id)
    if chosen is not None:
        return {"preferred_escalation_provider": chosen["preferred_escalation_provider"]}, 200
    if user["seats"]["on_call"] != "none":  # no choice: an on-call seat is paged natively
        return {"preferred_escalation_provider": "native"}, 200
    return {}, 200


def set_paging_provider(ctx: Ctx, user_id: str, body: Json) -> Reply:
    _user(ctx, user_id)
    ctx.store.put(
        "paging_providers",
        {"id": user_id, "preferred_escalation_provider": body["preferred_escalation_provider"]},
    )
    return None, 204


OPERATIONS: dict[str, Callable[..., Reply]] = {
    "Users V2#List": list_,
    "Users V2#ListNotificationMethods": notification_methods,
    "Users V2#ListNotificationRules": notification_rules,
    "Users V2#ShowPagingProvider": paging_provider,
    "Users V2#UpdatePagingProvider": set_paging_provider,
}
