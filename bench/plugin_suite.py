"""A plugin-driven suite of 1,000 trivial tests, each in its own sandbox, against the same suite without it.

`python bench/plugin_suite.py [--tests 1000] [--rounds 3]` writes throw-away projects in a temp folder
(one test file of N test functions, no conftest) and runs `python -m pytest -q -p no:cacheprovider` on
each in a subprocess, timing the whole subprocess (wall clock):

- sandbox:    `def test_N(incident_sandbox): assert incident_sandbox.id` (the plugin starts its own mock
              for the session, then creates and deletes one sandbox per test);
- sandbox, running mock: the same tests against an already running `incident-mock`
              (`--incident-mock-url`), so the mock's start is not in the figure;
- plain:      `def test_N(): assert True` with the plugin installed (loaded, unused);
- plain, -p no:incident_mock: the same with the plugin disabled.

The variants alternate, `--rounds` times; the median of each is reported, and the overhead per test is
(sandbox - plain) / N.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from servers import Server

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv/bin/python")
MOCK_ARGV = [str(ROOT / ".venv/bin/incident-mock"), "--port", "{port}", "--log-level", "warning"]


def project(folder: Path, n: int, fixture: bool) -> Path:
    folder.mkdir()
    if fixture:
        tests = (f"def test_{i}(incident_sandbox):\n    assert incident_sandbox.id\n" for i in range(n))
    else:
        tests = (f"def test_{i}():\n    assert True\n" for i in range(n))
    (folder / "test_suite.py").write_text("\n\n".join(tests))
    return folder


def timed(folder: Path, extra: list[str], n: int) -> float:
    argv = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=folder, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0 or f"{n} passed" not in done.stdout:
        raise RuntimeError(
            f"pytest {extra} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return took


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    n = opts.tests
    with tempfile.TemporaryDirectory() as tmp:
        with_fixture, plain = project(Path(tmp) / "sandbox", n, True), project(Path(tmp) / "plain", n, False)
        mock = Server("mock", [*MOCK_ARGV, "--max-sandboxes", "100"], log=Path(tmp) / "mock.log")
        mock.start()
        try:
            variants = {
                "sandbox": (with_fixture, []),
                "sandbox, running mock": (with_fixture, ["--incident-mock-url", mock.base]),
                "plain": (plain, []),
                "plain, -p no:incident_mock": (plain, ["-p", "no:incident_mock"]),
            }
            times: dict[str, list[float]] = {name: [] for name in variants}
            for _ in range(opts.rounds):
                for name, (folder, extra) in variants.items():
                    times[name].append(timed(folder, extra, n))
        finally:
            mock.stop()
    median = {name: statistics.median(samples) for name, samples in times.items()}
    for name, samples in times.items():
        runs = ", ".join(f"{s:.2f}" for s in samples)
        print(f"{n:,} tests, {name:<28} median {median[name]:6.2f} s  (runs: {runs})")
    for base in ("plain", "plain, -p no:incident_mock"):
        for name in ("sandbox", "sandbox, running mock"):
            per = (median[name] - median[base]) / n * 1000
            print(
                f"overhead of '{name}' over '{base}': {median[name] - median[base]:.2f} s, "
                f"{per:.2f} ms per test"
            )
    unused = median["plain"] - median["plain, -p no:incident_mock"]
    print(f"plugin loaded but unused: {unused * 1000:+.0f} ms a run")


if __name__ == "__main__":
    main()
