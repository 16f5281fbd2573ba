"""The story pages in a real browser: a corpus crawled with ``scrapy crawl
files`` into ``news.db``, served by a real ``datasette`` process on
127.0.0.1 (the plugin loaded through its entry point), driven in Debian's
Chromium through Playwright (``make chromium`` installs it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlite_utils

from tests.helpers import ROOT
from tests.test_browse import biggest_story, crawled

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def news_db(tmp_path_factory):
    return crawled(tmp_path_factory, "news.db")


@pytest.fixture(scope="module")
def server(news_db):
    port = _free_port()
    datasette = Path(sys.executable).parent / "datasette"
    proc = subprocess.Popen(
        [str(datasette), "serve", str(news_db), "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/versions.json", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"datasette did not start: {proc.stderr.read().decode()[-2000:]}"
                    ) from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    # nothing may be fetched from anywhere but the server under test
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            None if r.url.startswith(("http://127.0.0.1:", "data:")) else outside.append(r.url)
        ),
    )
    page.dialogs, page.outside = dialogs, outside
    yield page
    context.close()


def test_story_page_columns_marks_and_timeline(server, page, news_db, tmp_path):
    story = biggest_story(news_db)
    db = sqlite_utils.Database(news_db)
    articles = list(
        db.query(
            "select id, site, published, title from articles where story_id = ?"
            " order by published is null, published, id",
            [story],
        )
    )
    page.goto(f"{server}/-/story/{story}")
    columns = page.locator("article[data-article-id]")
    assert columns.count() == len(articles) == 4
    boxes = [columns.nth(i).bounding_box() for i in range(columns.count())]
    # side by side: one row of columns, left to right, none overlapping
    assert len({round(b["y"]) for b in boxes}) == 1
    assert all(a["x"] + a["width"] <= b["x"] for a, b in zip(boxes, boxes[1:], strict=False))
    for i, article in enumerate(articles):
        column = columns.nth(i)
        assert column.get_attribute("data-article-id") == str(article["id"])
        assert column.locator("[data-field=outlet]").inner_text() == (
            article["site"] or "(unknown outlet)"
        )
        assert column.locator("[data-field=published]").inner_text() == (
            article["published"] or "undated"
        )
        assert column.locator("[data-field=title]").inner_text() == article["title"]
        assert column.locator("[data-field=text] p").count() >= 1
    other = next(a["id"] for a in articles if a["site"] == "Other Outlet")
    marks = page.locator(f'article[data-article-id="{other}"] mark')
    assert marks.count() == 1 and "deepening alliance" in marks.first.inner_text()
    assert (
        page.locator("article[data-article-id] mark").count() == 2
    )  # the sentence, in each of the two outlets
    # the hostile title is shown as text and ran nothing
    hostile = next(a for a in articles if "<script>" in (a["title"] or ""))
    assert (
        page.locator(f'article[data-article-id="{hostile["id"]}"] h2').inner_text()
        == (hostile["title"])
    )
    assert page.dialogs == [] and page.outside == []
    # the timeline: one dot per dated article, one lane per outlet, later is further right
    dots = page.locator("svg.nc-timeline circle")
    dated = [a for a in articles if a["published"]]
    assert dots.count() == len(dated) == 2
    x = {
        dots.nth(i).get_attribute("data-article-id"): float(dots.nth(i).get_attribute("cx"))
        for i in range(dots.count())
    }
    assert x[str(dated[0]["id"])] < x[str(dated[1]["id"])]
    assert page.locator("svg.nc-timeline").bounding_box()["height"] > 0
    shot = tmp_path / "story.png"
    page.screenshot(path=str(shot), clip={"x": 0, "y": 0, "width": 1400, "height": 900})
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("BROWSE_SCREENSHOT"):  # docs/story-page.png is made this way
        page.set_viewport_size({"width": 1100, "height": 680})
        page.screenshot(path=os.environ["BROWSE_SCREENSHOT"], type="png")


def test_a_search_links_to_its_story(server, page, news_db):
    story = biggest_story(news_db)
    page.goto(f"{server}/news/articles")
    page.fill("input#_search", "Patrushev")
    page.locator("input#_search").press("Enter")
    page.wait_for_url("**_search=Patrushev**")
    page.locator("a.story-link").first.click()
    page.wait_for_url(f"**/-/story/{story}")
    assert page.locator("article[data-article-id]").count() == 4
    # the canned search query and the stories list search do too
    page.goto(f"{server}/news/search?q=drones")
    assert page.locator(f'a.story-link[href="/-/story/{story}"]').count() >= 2
    page.goto(f"{server}/-/stories")
    page.fill("#nc-q", "Patrushev")
    page.locator("#nc-q").press("Enter")
    page.wait_for_url("**q=Patrushev**")
    rows = page.locator("tr[data-story-id]")
    assert rows.count() == 1
    rows.first.locator("a").first.click()
    page.wait_for_url(f"**/-/story/{story}")
    assert page.locator("svg.nc-timeline").count() == 1
    assert page.dialogs == [] and page.outside == []
