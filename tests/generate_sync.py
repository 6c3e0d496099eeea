"""Write the sync half of the testing kit's Python API from its async half, with unasync:
mock/incident_mock/testing/aio.py (over `httpx.AsyncClient`) -> sync.py (over `httpx.Client`).

    python -m tests.generate_sync          # `make sync`: rewrite sync.py after editing aio.py

unasync drops `async` and `await` and renames the tokens below (`AsyncSandbox` -> `Sandbox`, ...); the same
renames are applied to the docstrings and comments, so both halves are documented alike. What follows the
`ASYNC_ONLY` line of aio.py is the async half's own and is left out. The result is put in the project's
ruff style. tests/mock/test_sync_half.py regenerates it into a temporary folder and fails on any difference
with the committed file.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import unasync

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mock" / "incident_mock" / "testing"
SOURCE, TARGET = PACKAGE / "aio.py", PACKAGE / "sync.py"
RENAMES = {
    "AsyncClockControl": "ClockControl",
    "AsyncFault": "Fault",
    "AsyncIncidentMock": "IncidentMock",
    "AsyncSandbox": "Sandbox",
    "AsyncWebhookEndpoint": "WebhookEndpoint",
    "AsyncWebhooks": "Webhooks",
    "SandboxCreation": "Sandbox",  # the sync half creates the sandbox at once: `Sandbox(client, data)`
    "AsyncClient": "Client",
    "aclose": "close",
    "asyncio": "time",  # aio.py uses asyncio for sleep only
    "in_thread": "in_place",
}
ASYNC_ONLY = "# --- async only"
SOURCE_NOTE = (
    "# sync.py is generated from this module by `make sync` (unasync): edit this one, then run it.\n"
)
GENERATED_NOTE = "# Generated from aio.py by `make sync` (unasync): do not edit.\n"


def _prose(text: str) -> str:
    """The renames in docstrings and comments too (unasync renames code tokens and whole-string names)."""
    text = re.sub(r"\bawait ", "", text)
    text = re.sub(r"\basync (with|for|def)\b", r"\1", text)
    return re.sub(r"\b(" + "|".join(RENAMES) + r")\b", lambda found: RENAMES[found[1]], text)


def _ruff(text: str, *args: str) -> str:
    """`text` through `ruff <args>` with the project's settings, as if it were sync.py."""
    command = [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(TARGET.relative_to(ROOT)), "-"]
    done = subprocess.run(command, input=text, capture_output=True, text=True, cwd=ROOT, check=True)
    return done.stdout


def generate(out_dir: Path) -> Path:
    """Write sync.py into `out_dir`; its path."""
    source = SOURCE.read_text(encoding="utf-8")
    if SOURCE_NOTE not in source or ASYNC_ONLY not in source:
        raise SystemExit(f"{SOURCE} lost its note or its {ASYNC_ONLY!r} line")
    source = source.replace(SOURCE_NOTE, GENERATED_NOTE)
    source = source[: source.index(ASYNC_ONLY)].rstrip() + "\n"
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / "aio" / "sync.py"
        copy.parent.mkdir()
        copy.write_text(source, encoding="utf-8")
        unasync.unasync_files([str(copy)], [unasync.Rule("/aio/", "/sync/", additional_replacements=RENAMES)])
        text = (Path(work) / "sync" / "sync.py").read_text(encoding="utf-8")
    text = _ruff(_ruff(_prose(text), "check", "--fix-only", "--select", "I,F401,RUF022"), "format")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / TARGET.name
    target.write_text(text, encoding="utf-8")
    return target


def main() -> None:
    print(generate(PACKAGE).relative_to(ROOT))


if __name__ == "__main__":
    main()
