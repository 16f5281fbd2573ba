"""Fixtures and hooks only; what tests share as code is in tests/helpers.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import helpers

#: the real redis-server fixtures (tests/redis_server.py)
pytest_plugins = ["tests.redis_server"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Tell tests/helpers.py which test runs (its setup, call and teardown), so
    that starting a scrapy process fails a test not marked e2e."""
    helpers.set_current_test(item)
    try:
        return (yield)
    finally:
        helpers.set_current_test(None)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "corpus.db"
