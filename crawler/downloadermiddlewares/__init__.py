"""Downloader middlewares (the Scrapy shell): politeness and safety.

Owns: :mod:`.useragent` (the contact User-Agent), :mod:`.safety` (private-address and
redirect guards over :mod:`crawler.netsafety`), :mod:`.robotstxt` (Scrapy's, fixed for
concurrent waiters). May import Scrapy, Twisted and :mod:`crawler.netsafety`; nothing of
the core imports this package.
"""
