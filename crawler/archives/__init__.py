"""Web archives: reading WARC files (and Common Crawl's CC-NEWS listings) as records.

Owns finding the files (``path``, ``paths`` listings, ``ccnews`` months under
``WARC_BASE_URL``: :mod:`.sources`), opening them as streams (local files, or
http(s) read as they arrive, resumable at a byte offset with ``Range``),
iterating their records with FastWARC (:mod:`.records`), the filters decided from
a record's WARC headers before its payload is read (:mod:`.filters`), reading
a file on a thread of its own with back-pressure (:mod:`.reader`), the
bookkeeping of how far each file has been read (:mod:`.progress`), and, for
scale-out, the files of a listing as a work queue shared in Redis (:mod:`.shared`,
given a redis-py client).

Pure: no Scrapy, no Twisted, no SQLite. May import :mod:`crawler.urls` and
:mod:`crawler.netsafety`. The ``warc`` spider (:mod:`crawler.spiders.warc`) runs
the readers on a thread of their own and turns records into pages;
:mod:`crawler.storage.archives` keeps the progress in the corpus.
"""
