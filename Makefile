# Quickstart: `make run` (crawl seeds/ into corpus.db), `make test`, `make serve`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= corpus.db
PORT   ?= 8001

.PHONY: install install-test redis-server run lint test serve bench bench-quick bench-extraction \
	bench-crawl bench-newsplease bench-stories bench-scaling clean

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

test: install-test redis-server
	$(BIN)/python -m pytest -q

serve: install
	$(BIN)/datasette serve $(DB) -m crawler/metadata.yml -h 127.0.0.1 -p $(PORT)

bench-extraction: install
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/extraction.py

bench-crawl: install
	$(BIN)/python bench/crawl.py --pages 2000

bench-newsplease: install
	$(BIN)/python bench/vs_newsplease.py --pages 2000

bench-stories: install
	$(BIN)/python bench/stories.py --rebuild

bench-scaling: install
	$(BIN)/python bench/scaling.py --sizes 1000,10000,100000

bench: bench-extraction bench-crawl bench-newsplease bench-stories bench-scaling

# About a minute: a 300-page site, and extraction on the dev pages.
bench-quick: install
	$(BIN)/python bench/crawl.py --pages 300 --sample 100
	$(BIN)/python bench/extraction.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
