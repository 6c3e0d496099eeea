"""Render a bench run as Markdown and merge it into bench/results.md, one section per label.

A run replaces only the section with its own label, so `before` and `after` runs sit side by side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from loadgen import Result

__all__ = ["Run", "merge", "render", "wide_name", "with_sandboxes"]

HEADER = (
    "# Bench results\n\n"
    "Written by `make bench` (`bench/run.py`). Each section is one labelled run "
    "(`bench/run.py --label NAME`); a new run replaces only the section with its label.\n"
)


@dataclass
class Run:
    label: str
    when: str
    machine: str
    tools: str
    method: str
    cells: dict[str, dict[str, Result]] = field(default_factory=dict)  # scenario -> server -> result
    startup_s: dict[str, float] = field(default_factory=dict)
    rss_idle_mib: dict[str, float] = field(default_factory=dict)
    memory: list[str] = field(default_factory=list)  # free-form lines about the big store
    sandboxes: int = 0  # with --sandboxes N: each cell also on the mock with N sandboxes alive


def with_sandboxes(n: int) -> str:
    """The server name of the mock measured with n sandboxes alive."""
    return f"mock, {n:,} sandboxes"


def wide_name(operations: int) -> str:
    """The server name of the mock serving the wide contract."""
    return f"mock, wide contract ({operations} operations)"


def _ratio(a: Result | None, b: Result | None) -> str:
    return f"{a.requests_per_s / b.requests_per_s:.2f}x" if a and b and b.requests_per_s else "n/a"


def _cpu_ratio(a: Result | None, b: Result | None) -> str:
    """How many times less CPU per request `a` used than `b`."""
    if not (a and b and a.cpu_us_per_request and b.cpu_us_per_request):
        return "n/a"
    return f"{b.cpu_us_per_request / a.cpu_us_per_request:.2f}x"


def _against_mock(run: Run, variant: str) -> list[str]:
    """The ratios of a variant of the mock (N sandboxes alive, a wide contract) beside the plain mock's."""
    lines = [
        "",
        f"| scenario | mock/Prism | {variant}/Prism | {variant} / mock (req/s) |",
        "|---|---:|---:|---:|",
    ]
    for scenario, results in run.cells.items():
        if variant in results:
            alone, other, changed = results.get("mock"), results.get("prism"), results[variant]
            ratios = f"{_ratio(alone, other)} | {_ratio(changed, other)} | {_ratio(changed, alone)}"
            lines.append(f"| {scenario} | {ratios} |")
    return lines


def render(run: Run) -> str:
    lines = [f"## {run.label} — {run.when}", "", f"- Machine: {run.machine}", f"- Tools: {run.tools}"]
    lines += [f"- Method: {run.method}", ""]
    lines += [
        "| scenario | server | req/s | p50 ms | p99 ms | requests | failures | server CPU µs/request |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario, results in run.cells.items():
        for server, r in results.items():
            cpu = f"{r.cpu_us_per_request:,.0f}" if r.cpu_us_per_request else "n/a"
            lines.append(
                f"| {scenario} | {server} | {r.requests_per_s:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
                f"| {r.requests:,} | {r.failures:,} | {cpu} |"
            )
    lines += [
        "",
        "| scenario | mock/ceiling (req/s) | mock/Prism (req/s) | Prism/mock (CPU per request) |",
        "|---|---:|---:|---:|",
    ]
    for scenario, results in run.cells.items():
        mock, other = results.get("mock"), results.get("prism")
        ceiling, prism = _ratio(mock, results.get("ceiling")), _ratio(mock, other)
        lines.append(f"| {scenario} | {ceiling} | {prism} | {_cpu_ratio(mock, other)} |")
    variants = [with_sandboxes(run.sandboxes)] if run.sandboxes else []
    variants += sorted({s for results in run.cells.values() for s in results if s.startswith("mock, wide")})
    for variant in variants:
        lines += _against_mock(run, variant)
    lines += ["", "| server | start to first 200 (s) | RSS after start (MiB) |", "|---|---:|---:|"]
    for server, seconds in run.startup_s.items():
        lines.append(f"| {server} | {seconds:.2f} | {run.rss_idle_mib.get(server, 0):.1f} |")
    lines += ["", *(f"- {line}" for line in run.memory), ""]
    return "\n".join(lines)


def merge(path: Path, run: Run) -> str:
    """Write the run's section into the results file (replacing an older one with its label)."""
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    sections = re.split(r"(?m)^(?=## )", text)
    head, rest = sections[0], [s for s in sections[1:] if not s.startswith(f"## {run.label} — ")]
    section = render(run)
    path.write_text(
        head.rstrip() + "\n\n" + "\n".join([section, *[s.rstrip() + "\n" for s in rest]]), "utf-8"
    )
    return section
