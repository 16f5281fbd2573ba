"""Extraction and cleaning: from fetched bytes to a clean article.

Owns decoding (charsets, gzip), main text and metadata out of HTML (trafilatura plus the
page's own markup), the line cleaner and its patterns, per-site rules, learnt site
profiles (the lines), language and page-type detection, and :mod:`.processing`, the one
function every page goes through (what the cleaning workers run). Pure: no Scrapy, no
Twisted, no SQLite. May import :mod:`crawler.items`, :mod:`crawler.urls`,
:mod:`crawler.features` and :mod:`crawler.dedup`.
"""
