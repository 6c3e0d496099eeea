"""The README's `## Install` section, read as a user reads it: the install line it gives for each extra."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def install_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Install\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def install_lines() -> dict[str | None, str]:
    """Each `pip install` line of the section's code blocks, by the extra it installs (None: the core)."""
    lines: dict[str | None, str] = {}
    for block in re.findall(r"^```\w*\n(.*?)^```", install_section(), flags=re.M | re.S):
        for line in block.splitlines():
            if "pip install" in line:
                extra = re.search(r"\[([a-z]+)\]", line)
                key = extra.group(1) if extra else None
                assert key not in lines, (
                    f"two README lines install {key or 'the core'}: {lines[key]!r}, {line!r}"
                )
                lines[key] = line.strip()
    return lines
