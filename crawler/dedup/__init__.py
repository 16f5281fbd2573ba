"""Duplicates: exact (a hash of the normalised text), near (shingle sketches) and the
decision of what an incoming article is (``decision``: known, updated, stored, a duplicate,
or an earlier copy replacing a kept one).

Pure: no Scrapy, no SQLite; the decisions take plain values. The SQLite side (fingerprint
postings, lookups) lives in :mod:`crawler.storage`. May import only the standard library.
"""
