"""The cleaning pool: pages travel to the worker processes in batches, and a
worker that dies costs no page but the one that killed it.

Real worker processes, really killed (SIGKILL, as the kernel's out-of-memory
killer would)."""

from __future__ import annotations

import asyncio
import os
import signal

from scrapy.utils.test import get_crawler

from crawler.extract.processing import clean_page
from crawler.items import Article, Failure, Page
from crawler.pipelines.extract import ExtractPipeline


def page(i: int, paragraphs: int) -> Page:
    body = (
        f"<html><head><title>Harbour story {i}</title></head><body><nav>Home | News</nav>"
        f"<article><h1>Harbour story {i}</h1>"
        + "".join(
            f"<p>Paragraph {k} of story {i}: the council met on Tuesday to discuss the"
            " harbour budget, the ferry timetable and the winter repairs.</p>"
            for k in range(paragraphs)
        )
        + "</article></body></html>"
    )
    return Page(
        url=f"https://news.test/{i}", body=body.encode(), content_type="text/html", http_status=200
    )


def pipeline(tmp_path) -> tuple[ExtractPipeline, object]:
    crawler = get_crawler(
        settings_dict={
            "CLEAN_WORKERS": 2,
            "CLEAN_SITE_PROFILES": False,
            "CORPUS_DB": str(tmp_path / "c.db"),
        }
    )
    crawler.stats.open_spider()
    pipe = ExtractPipeline.from_crawler(crawler)
    pipe.open_spider()
    return pipe, crawler.stats


async def until(condition, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


def kill_workers(pipe: ExtractPipeline) -> list[int]:
    pids = pipe.pool.worker_pids()
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return pids


async def test_pages_are_cleaned_in_batches_like_in_process(tmp_path):
    pipe, stats = pipeline(tmp_path)
    try:
        pages = [page(i, 20) for i in range(40)]
        results = await asyncio.gather(*(pipe.process_item(p) for p in pages))
    finally:
        pipe.close_spider()
    assert [r.text for r in results] == [clean_page(p, pipe.options).text for p in pages]
    assert stats.get_value("corpus/extracted") == 40
    # pages that came while the workers were busy went together
    assert stats.get_value("corpus/clean_batches") < 40


async def test_a_killed_pool_loses_no_page(tmp_path):
    pipe, stats = pipeline(tmp_path)
    try:
        pages = [page(i, 600) for i in range(10)]
        tasks = [asyncio.ensure_future(pipe.process_item(p)) for p in pages]
        await until(lambda: pipe.pool.batches_out >= 2 and len(pipe.pool.worker_pids()) == 2)
        await asyncio.sleep(0.1)
        killed = kill_workers(pipe)
        results = await asyncio.gather(*tasks)
        assert not set(killed) & set(pipe.pool.worker_pids())
    finally:
        pipe.close_spider()
    assert stats.get_value("corpus/clean_pool_restarts") == 1
    assert not stats.get_value("corpus/clean_worker_crashes")
    assert all(isinstance(r, Article) for r in results)
    assert [r.text for r in results] == [clean_page(p, pipe.options).text for p in pages]


async def test_the_page_alone_in_the_pool_when_it_dies_is_the_one_that_fails(tmp_path):
    """After a pool dies the pages it lost are cleaned one at a time: a worker
    that dies then names its page (here killed again, as a page that crashes
    lxml or eats all memory would)."""
    pipe, stats = pipeline(tmp_path)
    try:
        pages = [page(i, 1200) for i in range(6)]
        tasks = [asyncio.ensure_future(pipe.process_item(p)) for p in pages]
        await until(lambda: pipe.pool.batches_out >= 2 and len(pipe.pool.worker_pids()) == 2)
        kill_workers(pipe)
        # the lost pages now go one at a time: kill the worker with one of them
        await until(
            lambda: pipe.pool.batches_out == 1 and pipe.pool.suspects and pipe.pool.worker_pids()
        )
        await asyncio.sleep(0.1)
        kill_workers(pipe)
        results = await asyncio.gather(*tasks)
    finally:
        pipe.close_spider()
    failed = [r for r in results if isinstance(r, Failure)]
    assert len(failed) == 1 and failed[0].reason == "the cleaning worker crashed on this page"
    assert stats.get_value("corpus/clean_worker_crashes") == 1
    assert stats.get_value("corpus/clean_pool_restarts") == 2
    expected = {p.url: clean_page(p, pipe.options).text for p in pages}
    assert all(r.text == expected[r.url] for r in results if isinstance(r, Article))


async def test_pages_still_queued_when_the_pool_closes_become_failures(tmp_path):
    """A crawl stopped with pages still waiting for a worker: each is a
    failure (a row the user sees), none vanishes."""
    pipe, stats = pipeline(tmp_path)
    pages = [page(i, 600) for i in range(12)]
    tasks = [asyncio.ensure_future(pipe.process_item(p)) for p in pages]
    await until(lambda: pipe.pool.batches_out >= 2 and len(pipe.pool.worker_pids()) == 2)
    pipe.close_spider()
    results = await asyncio.gather(*tasks)
    assert len(results) == 12
    assert all(isinstance(r, (Article, Failure)) for r in results)
    stopped = [r for r in results if isinstance(r, Failure)]
    assert stopped and all(
        r.reason == "the crawl stopped before this page was cleaned" for r in stopped
    )
