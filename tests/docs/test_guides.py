"""The README as a front door, and the guides: their examples run, and the docs site and the live mock
serve every guide (found by its title in a real Chromium), a search over them, and the Python API page."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from incident_contract.docs.guides import guides
from incident_mock.app import create_app
from tests.docs.browser import Browser
from tests.readme import install_lines
from tests.servers import serve

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
GUIDES = ROOT / "contract" / "incident_contract" / "guides"
PLUGIN = ROOT / "mock" / "incident_mock" / "pytest_plugin.py"
TITLES = "Array.from(document.querySelectorAll('h1')).map(h => h.textContent)"


def code_blocks(path: Path, language: str = "python") -> list[str]:
    """The fenced code blocks of a Markdown file in one language, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```$", path.read_text(encoding="utf-8"), re.M | re.S)


def quickstart() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Quickstart")
    body = text[start : text.index("\n## ", start + 1)]
    [block] = re.findall(r"^```python\n(.*?)^```$", body, re.M | re.S)
    return block


def test_the_readme_is_a_front_door_of_at_most_200_lines_of_at_most_120_characters() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200
    assert [n for n, line in enumerate(lines, 1) if len(line) > 120] == []
    headings = [line for line in lines if line.startswith("## ")]
    assert headings[:2] == ["## Install", "## Quickstart: a test against the mock"]
    # One install line per extra (tests/contract/test_core.py checks them against incident_contract.install).
    assert set(install_lines()) == {None, "mock", "conformance", "all"}


def test_the_readme_links_every_guide_and_every_guide_links_only_guides_that_exist() -> None:
    text = README.read_text(encoding="utf-8")
    names = sorted(p.name for p in GUIDES.glob("*.md"))
    assert len(names) >= 8
    assert sorted(re.findall(r"contract/incident_contract/guides/([\w.-]+\.md)", text)) == names
    for path in GUIDES.glob("*.md"):
        targets = re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", path.read_text(encoding="utf-8"))
        assert {t for t in targets if t not in names} == set(), path.name


def test_the_guides_tell_no_development_history() -> None:
    history = re.compile(r"issue \d|\bsession's end|this session|not yet found|\b7b\b|\bstage \d", re.I)
    found = [
        f"{path.name}:{n}: {line}"
        for path in [README, *GUIDES.glob("*.md")]
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if history.search(line)
    ]
    assert found == []


def test_the_testing_guide_names_every_fixture_of_the_plugin() -> None:
    tree = ast.parse(PLUGIN.read_text(encoding="utf-8"))
    fixtures = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and any("fixture" in ast.unparse(d) for d in node.decorator_list)
    }
    assert fixtures >= {"incident_mock", "incident_sandbox", "incident_webhooks"}
    testing = (GUIDES / "testing.md").read_text(encoding="utf-8")
    assert {name for name in fixtures if f"`{name}`" not in testing} == set()
    assert "incident_mock.sandbox(seed=" in testing


def test_the_benchmark_figures_live_in_one_guide_dated_with_their_command() -> None:
    ratio = re.compile(r"\b\d+\.\d+x\b")
    holders = sorted(p.name for p in [README, *GUIDES.glob("*.md")] if ratio.search(p.read_text("utf-8")))
    assert holders == ["benchmarks.md"]
    bench = (GUIDES / "benchmarks.md").read_text(encoding="utf-8")
    latest = bench[bench.index("## Latest run") :].split("\n## ")[0]
    assert "2026-11-29" in latest and "bench/run.py" in latest and "3.41x" in latest


def run_pytest(project: Path) -> subprocess.CompletedProcess[str]:
    """pytest in a subprocess, in a project folder without a conftest: the installed plugin only."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "INCIDENT_MOCK_")) and k not in ("PYTHONWARNINGS",)
    }
    # pytest-asyncio (installed here, unused by the project) warns about its own unset option under -W error
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:asyncio", "-W", "error"]
    return subprocess.run(
        [*command, "-v"], cwd=project, env=environ, capture_output=True, text=True, timeout=240, check=False
    )


def test_the_readme_quickstart_and_the_guides_pytest_examples_pass_under_the_plugin(tmp_path: Path) -> None:
    testing = code_blocks(GUIDES / "testing.md")
    webhooks = code_blocks(GUIDES / "webhook-delivery.md")
    faults = code_blocks(GUIDES / "faults-clock-seeds.md")
    files = {
        "test_quickstart.py": quickstart(),
        # the testing guide's tests, and the webhooks guide's, which uses its alert bridge "in the same file"
        "test_testing_guide.py": "\n\n".join(
            [*(b for b in testing if "def test_" in b), *(b for b in webhooks if "def test_" in b)]
        ),
        "test_faults_guide.py": "\n\n".join(b for b in faults if "def test_" in b),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    done = run_pytest(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    passed = set(re.findall(r"::(test_\w+) PASSED", done.stdout))
    expected = {m for text in files.values() for m in re.findall(r"^def (test_\w+)", text, re.M)}
    assert len(expected) >= 6 and passed == expected, done.stdout


def test_the_guides_python_examples_outside_pytest_run(tmp_path: Path) -> None:
    blocks = [
        b
        for path in ("faults-clock-seeds.md", "webhook-delivery.md")
        for b in code_blocks(GUIDES / path)
        if "with IncidentMock(" in b
    ]
    assert len(blocks) == 2
    for n, block in enumerate(blocks):
        script = tmp_path / f"example_{n}.py"
        script.write_text(block, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, block + done.stderr


def test_each_guide_page_of_the_site_shows_its_title_without_console_errors(
    browser: Browser, site: Path
) -> None:
    every = guides()
    assert len(every) >= 8
    with browser.page() as page:
        for guide in every:
            page.load((site / "guides" / guide.page).as_uri())
            assert page.evaluate(TITLES) == [guide.title], guide.name
            assert guide.title in page.evaluate("document.title")
            assert page.errors() == [], guide.name
        page.load((site / "guides" / "index.html").as_uri())
        listed = page.evaluate(
            "Array.from(document.querySelectorAll('section.guide h2')).map(h => h.textContent)"
        )
        assert page.errors() == []
    assert 'href="guides/index.html"' in (site / "index.html").read_text(encoding="utf-8")
    assert listed == [*(g.title for g in every), "Python API"]


def test_the_python_api_page_lists_every_public_name_of_the_testing_kit(browser: Browser, site: Path) -> None:
    import incident_mock.testing

    with browser.page() as page:
        page.load((site / "guides" / "python-api.html").as_uri())
        names = page.evaluate(
            "Array.from(document.querySelectorAll('section.guide h2')).map(h => h.textContent)"
        )
        signatures = page.evaluate("document.querySelectorAll('pre.signature').length")
        text = page.evaluate("document.body.innerText")
        assert page.errors() == []
    assert names == list(incident_mock.testing.__all__)
    assert signatures > 2 * len(names)  # each name, and the methods of the classes
    assert "def wait_for(" in text and "classmethod connect(" in text
    assert "self," not in text  # methods are shown as they are called


def test_the_search_box_finds_sections_of_guides_and_names_of_the_python_api(
    browser: Browser, site: Path
) -> None:
    search = (
        "(q => { const box = document.getElementById('search'); box.value = q;"
        " box.dispatchEvent(new Event('input'));"
        " return Array.from(document.querySelectorAll('#results a')).map(a => a.getAttribute('href')); })"
    )
    with browser.page() as page:
        page.load((site / "guides" / "index.html").as_uri())
        retries = page.evaluate(f"{search}('retry_schedule_seconds')")
        both = page.evaluate(f"{search}('sandbox frozen_at seed')")
        api = page.evaluate(f"{search}('WebhookReceiver fail_next')")
        nothing = page.evaluate(
            f"{search}('zzz-no-such-word') && document.getElementById('results').textContent"
        )
        assert page.errors() == []
    assert "webhook-delivery.html#how-messages-are-delivered" in retries
    assert any(href.startswith("faults-clock-seeds.html#") for href in both)
    assert "python-api.html#api-webhookreceiver" in api
    assert nothing == "Nothing found."


@pytest.fixture(scope="module")
def live() -> Iterator[str]:
    with serve(create_app()) as url:
        yield url


def test_the_live_mock_serves_each_guide_page_with_its_title(live: str, browser: Browser) -> None:
    assert 'href="./guides/"' in httpx.get(f"{live}/docs/").text
    redirect = httpx.get(f"{live}/docs/guides")
    assert (redirect.status_code, redirect.headers["location"]) == (307, "/docs/guides/")
    assert httpx.get(f"{live}/docs/guides/nope.html").json()["type"] == "not_found"
    with browser.page() as page:
        page.load(f"{live}/docs/guides/")
        assert page.evaluate(TITLES) == ["Guides"]
        for guide in [*guides()]:
            page.load(f"{live}/docs/guides/{guide.page}")
            assert page.evaluate(TITLES) == [guide.title], guide.name
            assert page.errors() == [], guide.name
        page.load(f"{live}/docs/guides/python-api.html")
        assert page.evaluate(TITLES) == ["Python API"]
        back = page.evaluate("document.querySelector('nav a').getAttribute('href')")
        assert page.errors() == []
    assert back == "../"  # Swagger UI, the live reference
