"""newscorpus crawler: clean, deduplicated corpora of comparable news articles."""

__version__ = "0.1.0"
