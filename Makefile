# Quickstart: `make run` (crawl seeds/ into corpus.db), `make test` (`make test-fast` without
# the e2e crawls), `make serve`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= corpus.db
PORT   ?= 8001

.PHONY: install install-test redis-server chromium run lint test test-fast serve bench bench-quick \
	bench-extraction bench-crawl bench-newsplease bench-stories bench-comparable bench-scaling bench-scaling-1m bench-warc clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,distributed,lint]'
	touch $@ $(VENV)/.installed

# The scale-out tests start a real redis-server on 127.0.0.1 (Debian package).
redis-server:
	@command -v redis-server >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq redis-server >/dev/null; fi; }

# The browser tests drive Debian's Chromium through Playwright (which cannot
# download its own browsers here): tests/test_browse_browser.py.
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/scrapy crawl files -a path=seeds -s CORPUS_DB=$(DB) -s LOG_LEVEL=WARNING
	$(BIN)/scrapy corpus summary --db $(DB)

# ruff (rules in pyproject.toml), the formatter's check, mypy on the pure core.
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint redis-server chromium
	$(BIN)/python -m pytest -q

# Everything but the e2e tests (those start real scrapy processes): about
# 20 s. A test that starts scrapy without the e2e marker fails.
test-fast: install-test redis-server
	$(BIN)/python -m pytest -q -m "not e2e"

# The package's Datasette plugin (crawler.browse) applies crawler/metadata.yml
# to every corpus served, whatever its file name: DB="a.db b.db" serves both.
# Facet suggestions are off: on a 100,000-article corpus they take 2 s of
# every articles page (the facet menus still work).
serve: install
	$(BIN)/datasette serve $(DB) -h 127.0.0.1 -p $(PORT) --setting suggest_facets off

bench-extraction: install
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/extraction.py

bench-crawl: install
	$(BIN)/python bench/crawl.py --pages 2000

bench-newsplease: install
	$(BIN)/python bench/vs_newsplease.py --pages 2000

bench-stories: install
	$(BIN)/python bench/stories.py --rebuild

# One seed per dev story into one corpus through a local search endpoint
# (GDELT JSON, then RSS): recall and precision of the seed's story.
bench-comparable: install
	$(BIN)/python bench/comparable.py --endpoint both

bench-scaling: install
	$(BIN)/python bench/scaling.py --sizes 1000,10000,100000

# The same to 1,000,000 articles (in `make bench` only: about an hour, a 23 GB
# corpus in a temporary directory; the fill beyond 10,000 is bench/scaling.py's
# fast path, the probes go through the real writer).
bench-scaling-1m: install
	$(BIN)/python bench/scaling.py --sizes 1000,10000,100000,1000000 --workers 2

# WARC ingest of the bench site against single-core trafilatura, fastwarc against warcio.
bench-warc: install
	$(BIN)/python bench/warc.py --pages 2000

bench: bench-extraction bench-crawl bench-newsplease bench-stories bench-comparable bench-scaling-1m bench-warc

# About a minute: a 300-page site, and extraction on the dev pages.
bench-quick: install
	$(BIN)/python bench/crawl.py --pages 300 --sample 100
	$(BIN)/python bench/extraction.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
