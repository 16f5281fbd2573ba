"""Scrapy settings for the corpus crawler.

Every project setting is prefixed (``CORPUS_*``, ``CLEAN_*``) and documented in
the README. Users override any of them with ``-s NAME=VALUE``.
"""

BOT_NAME = "newscorpus"

SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

# --- the corpus -----------------------------------------------------------
# Path of the SQLite corpus.
CORPUS_DB = "corpus.db"
# Articles, duplicates and failures are written in transactions of this size.
CORPUS_BATCH_SIZE = 200
# Clean texts shorter than this many words are "no article text found".
CLEAN_MIN_WORDS = 25

# --- politeness and safety --------------------------------------------------
# Contact URL for site operators, appended to the User-Agent.
CORPUS_CONTACT_URL = ""
USER_AGENT = "newscorpus-crawler/0.1 (+https://github.com/newscorpus/crawler)"
ROBOTSTXT_OBEY = True
# Refuse web targets on private, loopback and link-local addresses.
ALLOW_PRIVATE_NETWORKS = False
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024

# Items are processed one at a time per response: a crawl yields one article
# per page, and the default of 100 costs a task per item slot (PERF-NOTES).
CONCURRENT_ITEMS = 1

ITEM_PIPELINES = {
    "crawler.pipelines.ExtractPipeline": 300,
    "crawler.pipelines.CorpusPipeline": 800,
}

EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
}

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

# Scrapy 2.19's remote-control server listens on a local port during every
# crawl; a corpus crawler run from cron does not need it.
REMOTE_CONTROL_ENABLED = False

# Worker processes that clean pages (-1: one per core; 0: clean in the crawl
# process itself).
CLEAN_WORKERS = -1
