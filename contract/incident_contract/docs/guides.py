"""The guides: the Markdown files of ``incident_contract/guides/``, rendered into pages of the docs site.

Each guide's first ``# `` heading is its title; its ``##`` and ``###`` headings get anchors. A link to a
sibling guide's ``.md`` file becomes a link to its page, so the same link works on a code host and in the
site. The search index is built here too: one entry per section, its text lower-cased, for the index
page's search box to match words against without a server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources

from markdown_it import MarkdownIt
from markdown_it.token import Token

from incident_contract.docs.markup import slug

__all__ = ["Guide", "SearchEntry", "guides", "render_guide"]

# Reading order of the site's navigation; a guide not named here follows, by file name.
ORDER = (
    "mock",
    "testing",
    "faults-clock-seeds",
    "webhook-delivery",
    "conformance",
    "sharing-and-security",
    "benchmarks",
    "contributing",
)


@dataclass(frozen=True)
class SearchEntry:
    """One section of a page for the search box: where it is, its title, its words."""

    page: str
    anchor: str
    title: str
    text: str


@dataclass(frozen=True)
class Guide:
    name: str  # the file's stem; the page is name + ".html"
    title: str
    source: str = field(repr=False)

    @property
    def page(self) -> str:
        return f"{self.name}.html"


@dataclass(frozen=True)
class Rendered:
    html: str
    headings: list[tuple[str, str]]  # (anchor, title) of each level-2 heading
    entries: list[SearchEntry]


def _md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def guides() -> list[Guide]:
    """Every guide packaged with the core, in reading order."""
    folder = resources.files("incident_contract") / "guides"
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".md"):
            text = entry.read_text(encoding="utf-8")
            title = next(
                (line[2:].strip() for line in text.splitlines() if line.startswith("# ")), entry.name
            )
            found[entry.name[:-3]] = Guide(entry.name[:-3], title, text)
    rank = {name: i for i, name in enumerate(ORDER)}
    return [found[name] for name in sorted(found, key=lambda n: (rank.get(n, len(rank)), n))]


_MD_LINK = re.compile(r"^(?P<path>[A-Za-z0-9_.-]+)\.md(?P<anchor>#.*)?$")


def _relink(href: str) -> str:
    """A sibling guide's file (``webhook-delivery.md#events``) -> its page; any other link unchanged."""
    match = _MD_LINK.match(href)
    return f"{match['path']}.html{match['anchor'] or ''}" if match else href


def _text(tokens: list[Token]) -> str:
    """The readable text of tokens: inline content, code blocks."""
    return " ".join(t.content for t in tokens if t.type in ("inline", "fence", "code_block") and t.content)


def render_guide(guide: Guide) -> Rendered:
    """The guide's HTML with heading anchors and relinked guide links, its headings and search entries."""
    md = _md()
    tokens = md.parse(guide.source)
    headings: list[tuple[str, str]] = []
    used: set[str] = set()
    sections: list[tuple[str, str, list[Token]]] = [("", guide.title, [])]
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            title = tokens[i + 1].content
            anchor = slug(title) or "section"
            while anchor in used:
                anchor += "-"
            used.add(anchor)
            token.attrSet("id", anchor)
            if token.tag == "h2":
                headings.append((anchor, title))
            if token.tag in ("h2", "h3"):
                sections.append((anchor, title, []))
                continue
        for child in token.children or ():
            if child.type == "link_open":
                child.attrSet("href", _relink(str(child.attrGet("href") or "")))
        sections[-1][2].append(token)
    entries = [
        SearchEntry(guide.page, anchor, f"{guide.title}: {title}" if anchor else title, _text(body))
        for anchor, title, body in sections
    ]
    return Rendered(md.renderer.render(tokens, md.options, {}), headings, entries)
