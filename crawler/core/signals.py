"""The project's own crawl signals (sent with ``crawler.signals.send_catch_log``).

Plain sentinels, as Scrapy's own :mod:`scrapy.signals` are: no Scrapy import.
"""

#: Sent by the corpus pipeline once the corpus is open, before the spider's
#: start requests; argument ``view``, a :class:`crawler.core.view.CorpusView`.
corpus_opened = object()

#: Sent (on the reactor) when the corpus learnt a site's chrome lines during the
#: crawl; arguments ``host`` and ``lines`` (line keys). The cleaning of later
#: pages removes them.
site_profile_learnt = object()
