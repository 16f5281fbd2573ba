"""The crawl's machinery under the Scrapy shell: plain Python, no Scrapy, no Twisted.

Owns :mod:`.pool` (the cleaning worker processes: batches, suspects, restarts after a
SIGKILL), :mod:`.writer` (the writer thread that owns the crawl's Corpus and its
write-error state), :mod:`.view` (the read-only corpus view spiders get) and
:mod:`.signals` (the project's signal sentinels). May import asyncio,
concurrent.futures, :mod:`crawler.items`, :mod:`crawler.extract.processing` and
:mod:`crawler.storage`; the pipelines and spiders import it, never the reverse.
"""
