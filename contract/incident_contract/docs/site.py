"""Writes the static site: ``index.html`` (the reference), ``guide.html`` (auth, idempotency, ...) and, for a
document with `x-webhooks`, ``webhooks.html`` (the events and how they are delivered); and ``guides/``: the
guides packaged with the core, an index with a search box, and the testing kit's Python API when installed.

Self-contained on purpose: inline CSS, a few lines of inline JS, and a Content-Security-Policy that
forbids every fetch, so the pages work from ``file://`` and a stray external reference shows up as a
console error in the browser test rather than as a silent dependency on the network.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from incident_contract.docs.guide import guide_sections
from incident_contract.docs.guides import Guide, SearchEntry, guides, render_guide
from incident_contract.docs.markup import Spec, esc, markdown, slug
from incident_contract.docs.python_api import API_MODULE, PAGE, api_module, api_sections
from incident_contract.docs.reference import operation_section, operations_by_tag
from incident_contract.docs.resources_page import PAGE as RESOURCES
from incident_contract.docs.resources_page import has_resources, resource_sections
from incident_contract.docs.schema_view import schema_section
from incident_contract.docs.webhooks_page import has_webhooks, webhook_sections
from incident_contract.document import load_control_spec, load_spec
from incident_contract.operations import operations

__all__ = ["GUIDES", "Document", "build_site", "default_documents", "guide_pages", "webhooks_page"]

GUIDES = "guides"  # the guides' folder of the site

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

_CSS = """
body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#1d2330;display:flex}
nav{position:sticky;top:0;height:100vh;overflow:auto;width:17rem;flex:none;padding:1rem;
background:#f3f5f8;border-right:1px solid #dde2ea;box-sizing:border-box}
nav a{display:block;color:#24406e;text-decoration:none;font-size:.9em;padding:.1rem 0}
nav h2{font-size:.8em;text-transform:uppercase;color:#5c6576;margin:1rem 0 .2rem}
main{padding:1rem 2rem;max-width:62rem;min-width:0}
section.operation,article.schema,section.guide{border-top:1px solid #dde2ea;padding:.5rem 0 1rem}
.method{display:inline-block;min-width:4.2em;text-align:center;border-radius:4px;color:#fff;
font:bold .8em monospace;padding:.15em .4em;background:#5c6576}
.method-get{background:#1f7a4d}.method-post{background:#24406e}.method-put{background:#8a5a00}
.method-delete{background:#a12a2a}.method-patch{background:#6b3fa0}
code{background:#f3f5f8;padding:0 .2em;border-radius:3px}
pre.example{background:#1d2330;color:#e8ecf2;padding:.7rem;overflow:auto;border-radius:4px}
pre.example code{background:none}
table{border-collapse:collapse;margin:.5rem 0;font-size:.92em}
td,th{border:1px solid #dde2ea;padding:.25rem .5rem;vertical-align:top;text-align:left}
details.response{margin:.3rem 0}summary{cursor:pointer}
.status{font:bold 1em monospace}.notes{color:#5c6576;font-size:.9em;margin:.2rem 0}
#filter,#search{width:100%;box-sizing:border-box;padding:.3rem}
article.guide-page pre{background:#1d2330;color:#e8ecf2;padding:.7rem;overflow:auto;border-radius:4px}
article.guide-page pre code{background:none}
pre.signature{background:#f3f5f8;padding:.4rem .6rem;overflow:auto;border-radius:4px;margin:.4rem 0}
div.member{margin-left:1.5rem}#results li{margin:.2rem 0}
"""

# Filters the operations by text, and searches the guides' index; each page is complete without it.
_JS = """
(function () {
  var box = document.getElementById("search");
  var data = document.getElementById("search-index");
  if (!box || !data) { return; }
  var index = JSON.parse(data.textContent);
  var out = document.getElementById("results");
  box.addEventListener("input", function () {
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    out.textContent = "";
    if (!words.length) { return; }
    index.filter(function (e) {
      return words.every(function (w) { return e.text.indexOf(w) !== -1; });
    }).slice(0, 50).forEach(function (e) {
      var item = document.createElement("li"), link = document.createElement("a");
      link.href = e.page + (e.anchor ? "#" + e.anchor : "");
      link.textContent = e.title;
      item.appendChild(link);
      out.appendChild(item);
    });
    if (!out.firstChild) { out.textContent = "Nothing found."; }
  });
})();
(function () {
  var input = document.getElementById("filter");
  if (!input) { return; }
  var sections = document.querySelectorAll("section.operation");
  input.addEventListener("input", function () {
    var q = input.value.toLowerCase();
    sections.forEach(function (s) {
      s.hidden = q !== "" && s.textContent.toLowerCase().indexOf(q) === -1;
    });
  });
})();
"""


@dataclass(frozen=True)
class Document:
    """One document the site renders: `folder` is where its pages go ("" for the site's root)."""

    folder: str
    spec: Spec


def default_documents() -> list[Document]:
    """The contract at the root, the mock's control plane in control-plane/."""
    return [Document("", load_spec()), Document("control-plane", load_control_spec())]


def _links(documents: list[Document], here: str) -> str:
    """The nav's links to every document's pages, relative to the folder `here`."""
    up = "../" if here else ""
    out = []
    for doc in documents:
        prefix = up + (f"{doc.folder}/" if doc.folder else "")
        title = esc(doc.spec.get("info", {}).get("title", doc.folder or "API"))
        hooks = f'<a href="{prefix}webhooks.html">Webhooks</a>' if has_webhooks(doc.spec) else ""
        hooks += f'<a href="{prefix}{RESOURCES}">Resources</a>' if has_resources(doc.spec) else ""
        out.append(f'<p><strong>{title}</strong><a href="{prefix}index.html">Reference</a>'
                   f'<a href="{prefix}guide.html">Guide</a>{hooks}</p>')  # fmt: skip
    if here != GUIDES:  # the guides' own pages list them in full
        out.append(f'<p><strong>Guides</strong><a href="{up}{GUIDES}/index.html">All guides, search</a></p>')
    return "".join(out)


def _page(spec: Spec, title: str, nav: str, body: str, links: str) -> str:
    info = spec.get("info", {})
    return _shell(f"{info.get('title', 'API')} {info.get('version', '')}".strip(), title, nav, body, links)


def _shell(heading: str, title: str, nav: str, body: str, links: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
        f'content="{_CSP}"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="data:,"><title>{esc(title)} · {esc(heading)}</title>'
        f"<style>{_CSS}</style></head><body><nav>{links}"
        f"{nav}</nav><main>{body}</main><script>{_JS}</script></body></html>\n"
    )


def _index(spec: Spec, links: str) -> str:
    groups = operations_by_tag(spec)
    tag_text = {tag["name"]: tag.get("description", "") for tag in spec.get("tags", [])}
    ops = operations(spec)
    nav = ['<input id="filter" type="search" placeholder="Filter operations" aria-label="Filter operations">']
    body = [f"<h1>API reference</h1><p>{len(ops)} operations.</p>"]
    for tag, op_ids in groups.items():
        nav.append(f"<h2>{esc(tag)}</h2>")
        nav.extend(f'<a href="#{esc(slug(o))}">{esc(ops[o].method)} {esc(ops[o].path)}</a>' for o in op_ids)
        body.append(f'<h2 class="tag" id="tag-{esc(slug(tag))}">{esc(tag)}</h2>{markdown(tag_text.get(tag))}')
        body.extend(operation_section(spec, o) for o in op_ids)
    nav.append('<h2>Schemas</h2><a href="#schemas">All schemas</a>')
    body.append(schema_section(spec))
    return _page(spec, "Reference", "".join(nav), "".join(body), links)


def _sectioned(spec: Spec, title: str, sections: list[tuple[str, str, str]], links: str) -> str:
    """A page of (anchor, heading, html) sections, with a nav entry for each."""
    nav = f"<h2>{esc(title)}</h2>" + "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t, _ in sections)
    body = f"<h1>{esc(title)}</h1>" + "".join(
        f'<section class="guide" id="{esc(a)}"><h2>{esc(t)}</h2>{html}</section>' for a, t, html in sections
    )
    return _page(spec, title, nav, body, links)


def _guide(spec: Spec, links: str) -> str:
    return _sectioned(spec, "Guide", guide_sections(spec), links)


def webhooks_page(spec: Spec, links: str = "") -> str:
    """The webhooks page of a document with `x-webhooks`: the static site's webhooks.html, and the page the
    mock serves beside Swagger UI."""
    return _sectioned(spec, "Webhooks", webhook_sections(spec), links)


def resources_page(spec: Spec, links: str = "") -> str:
    """The resources page of a document with `x-resources`: the static site's resources.html, and the page
    the mock serves beside Swagger UI."""
    return _sectioned(spec, "Resources", resource_sections(spec), links)


def _guides_nav(all_guides: list[Guide], api: bool, here: list[tuple[str, str]]) -> str:
    """The guides' navigation: the index, every guide, the Python API, then the sections of this page."""
    nav = ['<h2>Guides</h2><a href="index.html">Index and search</a>']
    nav.extend(f'<a href="{esc(g.page)}">{esc(g.title)}</a>' for g in all_guides)
    if api:
        nav.append(f'<a href="{PAGE}">Python API</a>')
    if here:
        nav.append("<h2>On this page</h2>" + "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t in here))
    return "".join(nav)


def _search_index(entries: list[SearchEntry]) -> str:
    """The entries as JSON in a data block: lower-cased words to match, `</` escaped for the HTML parser."""
    rows = [asdict(e) | {"text": f"{e.title} {e.text}".lower()} for e in entries]
    data = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return f'<script type="application/json" id="search-index">{data}</script>'


def _api_page(heading: str, nav: str, sections: list[tuple[str, str, str]], links: str) -> str:
    intro = (
        f"<h1>Python API</h1><p>The public names of <code>{API_MODULE}</code> (its <code>__all__</code>),"
        " with their signatures and docstrings. The testing kit guide shows them at work.</p>"
    )
    body = "".join(
        f'<section class="guide" id="{esc(a)}"><h2>{esc(t)}</h2>{h}</section>' for a, t, h in sections
    )
    return _shell(heading, "Python API", nav, intro + body, links)


def _listing(page: str, title: str, items: str) -> str:
    return f'<section class="guide"><h2><a href="{esc(page)}">{esc(title)}</a></h2>{items}</section>'


def guide_pages(links: str = "") -> dict[str, str]:
    """The guides' pages by file name: ``index.html`` (every guide and its sections, and a search box over
    all of them), one page per guide, and ``python-api.html`` when the testing kit is installed. `links`
    heads each page's navigation (the way back to the reference, wherever the caller serves it)."""
    heading = "incident-contract guides"
    all_guides = guides()
    rendered = {g.name: render_guide(g) for g in all_guides}
    module = api_module()
    api_found, api_entries = api_sections(module) if module is not None else ([], [])
    has_api = module is not None
    pages: dict[str, str] = {}
    listing = []
    for g in all_guides:
        shown = rendered[g.name]
        nav = _guides_nav(all_guides, has_api, shown.headings)
        pages[g.page] = _shell(
            heading, g.title, nav, f'<article class="guide-page">{shown.html}</article>', links
        )
        items = "".join(f'<li><a href="{esc(g.page)}#{esc(a)}">{esc(t)}</a></li>' for a, t in shown.headings)
        listing.append(_listing(g.page, g.title, f"<ul>{items}</ul>"))
    if has_api:
        nav = _guides_nav(all_guides, True, [(a, t) for a, t, _ in api_found])
        pages[PAGE] = _api_page(heading, nav, api_found, links)
        names = ", ".join(f'<a href="{PAGE}#{esc(a)}"><code>{esc(t)}</code></a>' for a, t, _ in api_found)
        listing.append(_listing(PAGE, "Python API", f"<p>{names}</p>"))
    search = (
        '<input id="search" type="search" placeholder="Search the guides" aria-label="Search the guides">'
        '<ul id="results"></ul>'
    )
    entries = [e for r in rendered.values() for e in r.entries] + api_entries
    index = f"<h1>Guides</h1>{search}{''.join(listing)}{_search_index(entries)}"
    pages["index.html"] = _shell(heading, "Guides", _guides_nav(all_guides, has_api, []), index, links)
    return pages


def build_site(out_dir: Path, documents: Spec | list[Document] | None = None) -> list[Path]:
    """Write the pages of `documents` into out_dir (created if needed) and return the files written.

    Each document gets a reference (index.html) and a guide (guide.html) in its folder, and a webhooks page
    (webhooks.html) when it has `x-webhooks`; the guides go to guides/ (see `guide_pages`); every page
    links to every document and to the guides. A single spec renders alone at the root; the default is the
    contract and the control plane.
    """
    if documents is None:
        documents = default_documents()
    elif isinstance(documents, dict):
        documents = [Document("", documents)]
    written = []
    for doc in documents:
        folder = out_dir / doc.folder if doc.folder else out_dir
        folder.mkdir(parents=True, exist_ok=True)
        links = _links(documents, doc.folder)
        pages = [("index.html", _index(doc.spec, links)), ("guide.html", _guide(doc.spec, links))]
        if has_webhooks(doc.spec):
            pages.append(("webhooks.html", webhooks_page(doc.spec, links)))
        if has_resources(doc.spec):
            pages.append((RESOURCES, resources_page(doc.spec, links)))
        for name, text in pages:
            path = folder / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
    folder = out_dir / GUIDES
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in guide_pages(_links(documents, GUIDES)).items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
