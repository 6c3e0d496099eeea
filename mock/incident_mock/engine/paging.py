"""Cursor pagination, as every list of the contract pages: `after` is the id of the last object of the
previous page (422 on `after` when it names none of the list), and a page that is not the last carries the
next page's cursor. The engine's lists and the behaviour modules that build their own rows page alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from incident_mock.domain.errors import ValidationFailed

__all__ = ["cut", "page"]

T = TypeVar("T")
Json = dict[str, Any]


def _id(row: Any) -> str:
    return str(row["id"])


def cut(
    items: Sequence[T], page_size: int, after: str | None, id_of: Callable[[T], str] = _id
) -> tuple[list[T], str | None]:
    """The page of `items` after the object `after` names, and the next page's cursor (None on the last)."""
    start = 0
    if after is not None:
        ids = [id_of(item) for item in items]
        if after not in ids:
            raise ValidationFailed.invalid("after", "unknown cursor")
        start = ids.index(after) + 1
    found = list(items[start : start + page_size])
    more = start + page_size < len(items) and bool(found)
    return found, (id_of(found[-1]) if more else None)


def page(
    items: Sequence[T], page_size: int, after: str | None, id_of: Callable[[T], str] = _id, **more: Any
) -> tuple[list[T], Json]:
    """`cut`, with the page's `pagination_meta`: `page_size`, anything in `more`, and `after` unless the
    page is the last."""
    found, cursor = cut(items, page_size, after, id_of)
    meta: Json = {"page_size": page_size, **more}
    if cursor is not None:
        meta["after"] = cursor
    return found, meta
