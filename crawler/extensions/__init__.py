"""Crawl extensions (the Scrapy shell): the progress line.

May import Scrapy and the pure :mod:`.progressline`.
"""
