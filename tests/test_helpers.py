"""The e2e marker is enforced: a scrapy process starts only from an e2e test,
and only through tests/helpers.py (which checks the marker)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import run_scrapy, scrapy_argv, scrapy_crawl

TESTS = Path(__file__).resolve().parent


def test_a_test_not_marked_e2e_cannot_start_scrapy(tmp_path):
    for start in (
        lambda: scrapy_argv("version"),
        lambda: run_scrapy("version"),
        lambda: scrapy_crawl("files", tmp_path / "c.db", path=str(tmp_path)),
    ):
        with pytest.raises(pytest.fail.Exception, match="not marked e2e"):
            start()
    assert not (tmp_path / "c.db").exists()


def _hand_made_scrapy_commands(source: str) -> list[int]:
    """Lines of list or tuple literals that spell a scrapy command line: an
    element ``"scrapy"`` (``python -m scrapy``) or a path ending in ``/scrapy``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.List | ast.Tuple):
            for element in node.elts:
                if isinstance(element, ast.Constant) and isinstance(element.value, str):
                    if element.value == "scrapy" or element.value.endswith("/scrapy"):
                        lines.append(node.lineno)
    return lines


def test_the_guard_finds_a_hand_made_command():
    assert _hand_made_scrapy_commands('cmd = [sys.executable, "-m", "scrapy", "crawl"]') == [1]
    assert _hand_made_scrapy_commands('run((".venv/bin/scrapy", "crawl"))') == [1]
    assert _hand_made_scrapy_commands('scrapy_argv("crawl", "scrapy")') == []


def test_no_test_builds_a_scrapy_command_by_hand():
    found = {
        path.name: lines
        for path in sorted(TESTS.glob("*.py"))
        if path.name != "helpers.py"
        and (lines := _hand_made_scrapy_commands(path.read_text(encoding="utf-8")))
    }
    assert found == {}, "start scrapy through tests.helpers.scrapy_argv or run_scrapy"
