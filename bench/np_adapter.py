"""Adapters run inside news-please's own throwaway venv (see bench/newsplease.py).

``extract`` is the score.py function; ``python np_adapter.py crawl URLS_FILE``
fetches and extracts the URLs with ``NewsPlease.from_urls`` in batches and
prints a JSON line with the timing.
"""

from __future__ import annotations

import json
import sys
import time

from newsplease import NewsPlease


def extract(html: bytes, url: str) -> str:
    article = NewsPlease.from_html(html.decode("utf-8", "replace"), url=url, fetch_images=False)
    return (getattr(article, "maintext", None) or "") if article else ""


def crawl(urls: list[str], batch: int = 100) -> dict:
    t0 = time.perf_counter()
    extracted = 0
    for k in range(0, len(urls), batch):
        # request_args must be given: news-please 1.6.16 reads its timeout
        # from it and silently returns {} for every page when it is None.
        results = NewsPlease.from_urls(
            urls[k : k + batch], request_args={"timeout": 30}, fetch_images=False
        )
        extracted += sum(1 for a in results.values() if a and getattr(a, "maintext", None))
    wall = time.perf_counter() - t0
    return {
        "pages": len(urls),
        "with_text": extracted,
        "wall_s": wall,
        "pages_per_s": len(urls) / wall,
    }


if __name__ == "__main__" and sys.argv[1:2] == ["crawl"]:
    with open(sys.argv[2]) as f:
        print(json.dumps(crawl([line.strip() for line in f if line.strip()])))
