"""Project commands: ``scrapy crawl`` (with clean argument errors), ``scrapy corpus``."""
