"""Scale-out: many crawl workers on one Redis frontier, one drain writing the corpus.

Turned on by ``CORPUS_REDIS_URL``; needs the ``distributed`` extra (redis, scrapy-redis),
imported lazily. The pure part (no Scrapy): :mod:`.codec` (keys, tagged JSON, messages),
:mod:`.channel` (the Redis client, a worker's outbox, the workers registry) and
:mod:`.drain` (the single writer); they may import :mod:`crawler.storage` and
:mod:`crawler.items`. The Scrapy shell, one component per module: :mod:`.addon` (the
switch), :mod:`.scheduler`, :mod:`.dupefilter`, :mod:`.spidermiddleware`,
:mod:`.extension`, :mod:`.pipeline`. :mod:`.distributed` keeps the 0.1.0 names.
"""
