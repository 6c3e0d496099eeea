"""The parsed contract is kept as JSON, named by the file's bytes: read back instead of parsing the YAML
again, parsed again when the bytes change, never kept when the strict parse refuses the file, and not kept
at all with INCIDENT_CONTRACT_CACHE=off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from incident_contract import document
from incident_contract.document import load_spec


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "cache"
    monkeypatch.setenv(document.CACHE, str(folder))
    document._load.cache_clear()  # the in-process cache would answer before the file cache is asked
    yield folder
    document._load.cache_clear()


def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the YAML parses from now on."""
    count: list[int] = []
    real = yaml.load

    def counted(*args: object, **kwargs: object) -> object:
        count.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(document.yaml, "load", counted)
    return count


def test_a_parse_is_read_back_until_the_file_changes(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract = tmp_path / "openapi.yaml"
    contract.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n", encoding="utf-8")
    count = parses(monkeypatch)
    first = load_spec(contract)
    document._load.cache_clear()
    again = load_spec(contract)
    assert first == again and len(count) == 1 and len(list(cache.glob("*.json"))) == 1
    contract.write_text("openapi: 3.0.3\ninfo: {title: changed, version: '1'}\npaths: {}\n", encoding="utf-8")
    document._load.cache_clear()
    assert load_spec(contract)["info"]["title"] == "changed" and len(count) == 2


def test_the_packaged_contract_reads_back_equal(cache: Path) -> None:
    parsed = load_spec()
    document._load.cache_clear()
    [kept] = cache.glob("*.json")
    assert json.loads(kept.read_text(encoding="utf-8")) == parsed == load_spec()


def test_a_refused_file_is_never_kept(cache: Path, tmp_path: Path) -> None:
    contract = tmp_path / "twice.yaml"
    contract.write_text("openapi: 3.0.3\nopenapi: 3.0.2\n", encoding="utf-8")
    with pytest.raises(yaml.constructor.ConstructorError):
        load_spec(contract)
    assert not cache.exists() or not list(cache.iterdir())


def test_a_parse_json_would_change_is_not_kept(cache: Path, tmp_path: Path) -> None:
    contract = tmp_path / "dated.yaml"
    contract.write_text("openapi: 3.0.3\nx-when: 2026-01-12\n", encoding="utf-8")
    assert str(load_spec(contract)["x-when"]) == "2026-01-12"  # a date, which JSON would make a string
    assert not cache.exists() or not list(cache.glob("*.json"))


def test_off_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(document.CACHE, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    document._load.cache_clear()
    try:
        load_spec()
    finally:
        document._load.cache_clear()
    assert not (tmp_path / "xdg").exists()
