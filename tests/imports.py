"""The import graph of the three packages, read from the source with `ast` (nothing is imported).

Every import counts: top level, inside functions, and under `if TYPE_CHECKING:`. Run
`python -m tests.imports` to print the graph, one module a line with what it imports from the project.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_ROOTS = {
    "incident_contract": ROOT / "contract",
    "incident_mock": ROOT / "mock",
    "incident_conformance": ROOT / "conformance",
}


def modules() -> dict[str, Path]:
    """Module name -> file, for every module of the three packages."""
    found = {}
    for package, source_root in SOURCE_ROOTS.items():
        for path in sorted((source_root / package).rglob("*.py")):
            parts = list(path.relative_to(source_root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported_names(name: str, path: Path) -> set[str]:
    """Every module name an import statement of the file names (absolute, relative imports resolved)."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            out.add(module)
            out |= {f"{module}.{alias.name}" for alias in node.names}  # `from pkg import submodule`
    return out


def graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    known = modules()
    return {
        name: {m for m in imported_names(name, path) if m in known and m != name}
        for name, path in known.items()
    }


def external(name: str) -> set[str]:
    """The top-level names of the third-party and standard modules a project module imports."""
    path = modules()[name]
    return {m.split(".")[0] for m in imported_names(name, path) if m.split(".")[0] not in SOURCE_ROOTS}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def main() -> None:
    edges = graph()
    for name in sorted(edges):
        print(f"{name} -> {', '.join(sorted(edges[name])) or '(nothing of ours)'}")
    loops = cycles(edges)
    print(
        f"\n{len(edges)} modules, {sum(map(len, edges.values()))} imports, {len(loops)} cycles",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
