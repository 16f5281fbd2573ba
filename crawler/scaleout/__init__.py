"""Scale-out: many crawl workers on one Redis frontier, one drain writing the corpus.

Turned on by ``CORPUS_REDIS_URL``; needs the ``distributed`` extra (redis, scrapy-redis),
imported lazily. May import :mod:`crawler.storage` and :mod:`crawler.items`.
"""
