"""The Python API page: every public name of the testing kit, with its signature and docstring.

The names are the module's ``__all__``, resolved when the page is generated: the module is imported by
name, only then, and only if it is installed (the testing kit comes with the ``[mock]`` extra, which the
core does not need). Without it there is no page. Signatures come from `inspect`, written as the source
spells its annotations; docstrings are rendered as Markdown.
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType
from typing import Any

from incident_contract.docs.guides import SearchEntry
from incident_contract.docs.markup import esc, markdown, slug

__all__ = ["API_MODULE", "PAGE", "api_module", "api_sections"]

API_MODULE = "incident_mock.testing"
PAGE = "python-api.html"


def api_module(name: str = API_MODULE) -> ModuleType | None:
    """The module, imported now; None when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


class _Source(str):
    """An annotation kept as the source wrote it: `inspect` shows it without quotes."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def _annotation(value: Any) -> Any:
    return _Source(value) if isinstance(value, str) else value


def _signature(obj: Any, *, method: bool = False) -> str:
    """The call signature as the source spells it: without a method's `self` or `cls`, without the
    private (underscored) parameters, and without a class's ``-> None``."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"
    params = [p.replace(annotation=_annotation(p.annotation)) for p in sig.parameters.values()]
    params = [p for p in params[1 if method else 0 :] if not p.name.startswith("_")]
    ret = inspect.Signature.empty if inspect.isclass(obj) else _annotation(sig.return_annotation)
    return str(sig.replace(parameters=params, return_annotation=ret))


def _members(cls: type, root: str) -> list[tuple[str, Any]]:
    """Public attributes defined by the class or by its bases in the same package, the class's own first."""
    seen: dict[str, Any] = {}
    for klass in cls.__mro__:
        if not klass.__module__.startswith(root):
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") and name not in seen:
                seen[name] = value
    return list(seen.items())


def _member(name: str, value: Any) -> tuple[str, str] | None:
    """(signature line, docstring) of a method, property or class attribute worth listing."""
    if isinstance(value, property):
        ret = inspect.signature(value.fget).return_annotation if value.fget else inspect.Signature.empty
        kind = f": {ret}" if ret is not inspect.Signature.empty else ""
        return f"property {name}{kind}", inspect.getdoc(value) or ""
    if isinstance(value, (classmethod, staticmethod)):
        func = value.__func__
        label = "classmethod" if isinstance(value, classmethod) else "staticmethod"
        return f"{label} {name}{_signature(func, method=label == 'classmethod')}", inspect.getdoc(func) or ""
    if inspect.isfunction(value):
        prefix = "async def" if inspect.iscoroutinefunction(value) else "def"
        return f"{prefix} {name}{_signature(value, method=True)}", inspect.getdoc(value) or ""
    return None


def _section(module: ModuleType, name: str) -> tuple[str, str, str, str]:
    """(anchor, title, html, text) for one public name."""
    obj = getattr(module, name)
    anchor = "api-" + slug(name)
    root = module.__name__.split(".")[0]
    doc = inspect.getdoc(obj) or ""
    if inspect.isclass(obj):
        kind = "exception" if issubclass(obj, BaseException) else "class"
        head = f"{kind} {name}{_signature(obj)}"
        rows = []
        for member, value in _members(obj, root):
            described = _member(member, value)
            if described is None:
                continue
            line, member_doc = described
            rows.append(
                f'<div class="member" id="{esc(anchor)}-{esc(slug(member))}">'
                f'<pre class="signature"><code>{esc(line)}</code></pre>{markdown(member_doc)}</div>'
            )
            doc += f"\n{member} {member_doc}"
        body = "".join(rows)
    else:
        head = f"{name}{_signature(obj)}" if callable(obj) else f"{name} = {obj!r}"
        body = ""
    html = f'<pre class="signature"><code>{esc(head)}</code></pre>{markdown(inspect.getdoc(obj))}{body}'
    return anchor, name, html, f"{head} {doc}"


def api_sections(module: ModuleType) -> tuple[list[tuple[str, str, str]], list[SearchEntry]]:
    """One section per name of the module's ``__all__``, in that order, and their search entries."""
    sections, entries = [], []
    for name in module.__all__:
        anchor, title, html, text = _section(module, name)
        sections.append((anchor, title, html))
        entries.append(SearchEntry(PAGE, anchor, f"Python API: {title}", text))
    return sections, entries
