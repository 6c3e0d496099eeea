"""Small HTML helpers shared by the pages: escaping, Markdown and stable anchors.

Markdown goes through markdown-it-py (CommonMark plus tables) with raw HTML switched off, so a
description can never inject markup into the page.
"""

from __future__ import annotations

import functools
import html
import json
import re
from typing import Any

from markdown_it import MarkdownIt

__all__ = ["Spec", "esc", "json_block", "markdown", "schema_anchor", "slug"]

Spec = dict[str, Any]


@functools.cache
def _md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def esc(text: object) -> str:
    """HTML-escape any value for element text or a quoted attribute."""
    return html.escape(str(text), quote=True)


def markdown(text: str | None) -> str:
    """Render a description written in Markdown; empty input gives an empty string."""
    return _md().render(text) if text else ""


def json_block(value: object) -> str:
    """A pretty-printed JSON example, escaped, in a <pre>."""
    body = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
    return f'<pre class="example"><code>{esc(body)}</code></pre>'


def slug(text: str) -> str:
    """A stable anchor for an operationId: 'Incidents V2#Create' -> 'incidents-v2-create'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def schema_anchor(name: str) -> str:
    return "schema-" + slug(name)
