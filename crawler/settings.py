"""Scrapy settings for the corpus crawler.

Every project setting is prefixed (``CORPUS_*``, ``CLEAN_*``) and documented in
the README. Users override any of them with ``-s NAME=VALUE``.

This module is the one place their defaults are written: :class:`crawler.config.Config`
(what the code reads, typed and validated, once per component) takes its field
defaults from here, as Scrapy's components take theirs from Scrapy's
``default_settings``. Plain constants only: no imports.
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
# Dedup, story grouping and writes run on a thread of their own, so the
# reactor keeps downloading while a batch is written (False: on the reactor).
CORPUS_WRITER_THREAD = True
# A page whose clean text has fewer words than this is no article: a `validate`
# failure ("too little article text: N words after cleaning (minimum 25)").
# 0 keeps every text; a page that cleans to nothing at all is an `extract`
# failure ("no article text found on the page") whatever this says.
CLEAN_MIN_WORDS = 25

# --- politeness and safety --------------------------------------------------
# Contact URL for site operators, appended to the User-Agent
# (crawler.downloadermiddlewares.useragent.ContactUserAgentMiddleware).
CORPUS_CONTACT_URL = ""
USER_AGENT = "newscorpus-crawler/0.1 (+https://github.com/newscorpus/crawler)"
ROBOTSTXT_OBEY = True
# The robots.txt product token this crawler obeys rules for (besides "*").
ROBOTSTXT_USER_AGENT = "newscorpus-crawler"
# Refuse web targets on private, loopback and link-local addresses
# (crawler.downloadermiddlewares.safety.WebSafetyMiddleware).
ALLOW_PRIVATE_NETWORKS = False
# Non-public targets allowed one by one, leaving ALLOW_PRIVATE_NETWORKS off:
# comma-separated HOST, HOST:PORT ([::1]:8080 for IPv6) or networks, e.g.
# "127.0.0.1:8080,10.0.0.0/8" (a local test server, a proxy, an intranet).
# A public page's redirect to any other private address is still refused.
ALLOW_PRIVATE_HOSTS = ""
# The same check on the address each connection uses (closes DNS rebinding).
TWISTED_DNS_RESOLVER = "crawler.resolver.SafeResolver"
# feeds and sitemaps spiders: do not download entries already in the corpus
# (as an article or a duplicate); counted as corpus/skipped/known_unfetched.
# A scale-out worker has no corpus to ask: it fetches them, warns once and
# counts them as corpus/skip_known/unavailable (the drain records them as known).
CORPUS_SKIP_KNOWN = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Never exactly 0: Scrapy 2.19's downloader hands a slot's whole queue out at
# once when the delay is 0, past CONCURRENT_REQUESTS_PER_DOMAIN (with
# AutoThrottle off: 7 requests in flight to a host capped at 2). Any delay
# takes its one-request-at-a-time path; 1 ms costs nothing measurable.
DOWNLOAD_DELAY = 0.001
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
DNS_TIMEOUT = 20
# Retries for timeouts, lost connections and HTTP 500, 502, 503, 504, 522,
# 524, 408 and 429 (Scrapy's RETRY_HTTP_CODES).
RETRY_ENABLED = True
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 10
# A 503 or 429 answer's Retry-After (seconds or an HTTP date) is waited for
# before the retry, up to this many seconds (a longer wait is cut to this;
# 0 ignores Retry-After). crawler.downloadermiddlewares.integrity.RetryAfterMiddleware.
CORPUS_RETRY_AFTER_MAX = 60.0
# Scrapy's UrlLengthMiddleware drops a longer URL with an INFO line only; ours
# (crawler.downloadermiddlewares.integrity) makes it a failures row.
URLLENGTH_LIMIT = 2083
# Also bounds the decompressed size of gzip/deflate/br responses, of
# .xml.gz sitemaps and of local files (file://, .html.gz decompressed).
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024

DOWNLOADER_MIDDLEWARES = {
    # before RobotsTxtMiddleware (100): a refused host never even gets a
    # robots.txt request.
    "crawler.downloadermiddlewares.safety.WebSafetyMiddleware": 40,
    # Scrapy's, fixed: concurrent requests all wait for robots.txt's rules.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "crawler.downloadermiddlewares.useragent.ContactUserAgentMiddleware": 500,
    # sees responses before RedirectMiddleware (600).
    "crawler.downloadermiddlewares.safety.RedirectGuardMiddleware": 650,
    # too long URLs, oversized local files; on the way back, before
    # HttpCompressionMiddleware (590): a truncated or corrupt gzip body.
    "crawler.downloadermiddlewares.integrity.IntegrityMiddleware": 595,
    # sees a 503/429 before RetryMiddleware (550) and waits its Retry-After.
    "crawler.downloadermiddlewares.integrity.RetryAfterMiddleware": 560,
}

SPIDER_MIDDLEWARES = {
    # replaced by IntegrityMiddleware, which leaves a failures row
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
}

# Items are processed one at a time per response: a crawl yields one article
# per page, and the default of 100 costs a task per item slot (PERF-NOTES).
CONCURRENT_ITEMS = 1

ITEM_PIPELINES = {
    "crawler.pipelines.extract.ExtractPipeline": 300,
    "crawler.pipelines.corpus.CorpusPipeline": 800,
}

EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    # Our one-line progress summary replaces Scrapy's pages/items line.
    "scrapy.extensions.logstats.LogStats": None,
    "crawler.extensions.progress.Progress": 500,
}
# Seconds between progress lines (0 turns them off).
CORPUS_PROGRESS_INTERVAL = 60.0

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

# Scrapy 2.19's remote-control server listens on a local port during every
# crawl; a corpus crawler run from cron does not need it.
REMOTE_CONTROL_ENABLED = False

# --- scale-out (crawler.scaleout; pip install '.[distributed]') ----------------
# Always listed: the add-on does nothing until CORPUS_REDIS_URL is set.
ADDONS = {
    "crawler.scaleout.addon.DistributedAddon": 0,
}
# redis://host:6379/0 turns scale-out on: the scheduler queue and duplicate
# filter live in this Redis, shared by every worker, and items go to a Redis
# list for `scrapy corpus drain` (the one SQLite writer) instead of CORPUS_DB.
# Empty (the default): crawl alone, straight into CORPUS_DB.
CORPUS_REDIS_URL = ""
# Prefix of every Redis key of one corpus: <key>:<spider>:requests|dupefilter|
# workers, <key>:items. Give each corpus (each drain) its own key to share a Redis.
CORPUS_REDIS_KEY = "newscorpus"
# Seconds a worker waits on an empty shared queue (other workers may still add
# to it) before it closes.
CORPUS_REDIS_IDLE_CLOSE = 10

# Worker processes that clean pages (-1: one per core; 0: clean in the crawl
# process itself).
CLEAN_WORKERS = -1

# A TOML file of per-host cleaning rules: ["host"] prune = [selectors],
# body = "selector" (README, "Per-site rules").
CLEAN_SITE_RULES = ""

# Seconds a write waits for another program's lock on the corpus before the
# crawl stops with a clear error (finish reason corpus_write_error).
CORPUS_BUSY_TIMEOUT = 30.0

# Keep each article's page as fetched (zlib-compressed, table `pages`) so
# that `scrapy reclean` can re-run cleaning without fetching again.
CORPUS_KEEP_RAW = True
# warc spider: where the relative entries of a warc.paths listing, and the
# CC-NEWS listings of -a ccnews=YYYY-MM, are fetched from.
WARC_BASE_URL = "https://data.commoncrawl.org/"
# Learn each site's recurring chrome lines (table `site_profiles`) and remove
# them from later pages and from the stored texts. Learnt during the crawl, as
# a host's stored articles reach 5, 10, 20, 40 ... 640 and then every 1000
# (crawler.storage.corpus.LEARN_AT), so the cleaning of the same crawl's later
# pages already drops them; and once more at the end of the crawl for every
# host it touched. A scale-out worker cleans without them (its corpus is the
# drain's).
CLEAN_SITE_PROFILES = True
