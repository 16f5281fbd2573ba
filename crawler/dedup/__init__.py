"""Duplicates: exact (a hash of the normalised text) and near (shingle sketches).

Pure: no Scrapy, no SQLite; the decisions take plain values. The SQLite side (fingerprint
postings, lookups) lives in :mod:`crawler.storage`. May import only the standard library.
"""
