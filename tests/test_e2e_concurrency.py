"""Crawls and readers at the same time: nothing lost, nothing blocked, no corruption."""

from __future__ import annotations

import importlib.util
import sqlite3
import subprocess
import sys
import time

import pytest
from datasette.app import Datasette

from tests.helpers import ROOT, scrapy_argv, scrapy_crawl

pytestmark = pytest.mark.e2e


def _sitegen():
    spec = importlib.util.spec_from_file_location("sitegen", ROOT / "bench" / "sitegen.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitegen"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory):
    sitegen = _sitegen()
    base = tmp_path_factory.mktemp("sites")
    a = sitegen.generate(base / "a", pages=120, seed=1, site="Site A")
    b = sitegen.generate(base / "b", pages=120, seed=2, site="Site B")
    return base / "a", base / "b", a, b


def _start(folder, db_path, *extra):
    return subprocess.Popen(
        scrapy_argv(
            "crawl",
            "files",
            "-a",
            f"path={folder}",
            "-s",
            f"CORPUS_DB={db_path}",
            "-s",
            "LOG_LEVEL=WARNING",
            *extra,
        ),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_crawls_at_once_lose_no_rows(two_sites, tmp_path):
    site_a, site_b, _, _ = two_sites
    # Alone, each folder gives this many articles.
    alone = {}
    for name, folder in (("a", site_a), ("b", site_b)):
        result = scrapy_crawl("files", tmp_path / f"{name}.db", path=str(folder))
        assert result.returncode == 0
        alone[name] = result.rows("select count(*) n from articles")[0]["n"]
    together = tmp_path / "both.db"
    procs = [
        _start(site_a, together, "-s", "CORPUS_BATCH_SIZE=10"),
        _start(site_b, together, "-s", "CORPUS_BATCH_SIZE=10"),
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-2000:]
    conn = sqlite3.connect(together)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    crawls = [(r[0], r[1]) for r in conn.execute("select finish_reason, stats from crawls")]
    assert [c[0] for c in crawls] == ["finished", "finished"], crawls
    total = conn.execute("select count(*) from articles").fetchone()[0]
    # The two generated sites share no text, so nothing is a duplicate across them.
    assert total == alone["a"] + alone["b"]


async def test_datasette_reads_while_a_crawl_writes(two_sites, tmp_path):
    site_a, _, _, _ = two_sites
    db_path = tmp_path / "corpus.db"
    # Create the corpus first, so Datasette has a file to open.
    assert scrapy_crawl("files", db_path, path=str(ROOT / "seeds")).returncode == 0
    ds = Datasette([str(db_path)])
    proc = _start(site_a, db_path, "-s", "CORPUS_BATCH_SIZE=5", "-s", "CLEAN_WORKERS=0")
    counts = []
    try:
        while proc.poll() is None:
            r = await ds.client.get("/corpus.json?sql=select+count(*)+n+from+articles&_shape=array")
            assert r.status_code == 200, r.text
            counts.append(r.json()[0]["n"])
            time.sleep(0.05)
    finally:
        proc.wait(timeout=240)
    assert proc.returncode == 0
    r = await ds.client.get("/corpus.json?sql=select+count(*)+n+from+articles&_shape=array")
    counts.append(r.json()[0]["n"])
    assert counts == sorted(counts), "a reader saw rows disappear"
    assert len(set(counts)) > 2, f"expected to watch the corpus grow, saw {sorted(set(counts))}"
    assert counts[-1] > 100
