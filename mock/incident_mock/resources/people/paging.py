"""One page of a list the people modules build themselves, paginated as the engine's lists are: `after` is
the id of the last object of the previous page (422 when it names none of the list), and the answer's
`pagination_meta` has the next page's `after` unless this page is the last."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from incident_mock.domain.errors import ValidationFailed
from incident_mock.engine.context import Json

__all__ = ["page"]

T = TypeVar("T")


def page(
    items: Sequence[T], id_of: Callable[[T], str], page_size: int, after: str | None
) -> tuple[list[T], Json]:
    """The page of `items` after the object `after` names, and its `pagination_meta`."""
    start = 0
    if after is not None:
        ids = [id_of(item) for item in items]
        if after not in ids:
            raise ValidationFailed.invalid("after", "unknown cursor")
        start = ids.index(after) + 1
    found = list(items[start : start + page_size])
    meta: Json = {"page_size": page_size}
    if start + page_size < len(items) and found:
        meta["after"] = id_of(found[-1])
    return found, meta
