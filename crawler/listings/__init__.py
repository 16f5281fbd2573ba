"""Listings: what a source says before any article is fetched.

Owns feeds (RSS, Atom, JSON Feed), sitemaps (indexes, news sitemaps, robots.txt), the
entries they list (with dates and hints), safe XML parsing, ``sources.toml`` and the
news-search queries of the ``comparable`` spider. Pure: no Scrapy, no Twisted, no SQLite.
May import :mod:`crawler.urls`, :mod:`crawler.extract.decoding` and :mod:`crawler.stories`.
"""
