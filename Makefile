# embproj: `make demo` builds the demo report, `make test` runs the tests. Both set up .venv first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
WARM   := $(VENV)/.numba-cached
# The page's JavaScript tools (ESLint), the exact versions of package-lock.json, installed into the project once
NODE_STAMP := node_modules/.installed
# Another machine's floating point: OpenBLAS's generic kernels and numba's code for a generic x86-64 CPU. A test
# that passes only with this machine's kernels (one UMAP layout's exact cluster count) fails here, not on a user's.
GENERIC := OPENBLAS_CORETYPE=Prescott NUMBA_CPU_NAME=generic
WARM_GENERIC := $(VENV)/.numba-cached-generic
PYTEST := PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 $(BIN)/python -m pytest -p xdist.plugin -p _hypothesis_pytestplugin \
	-q -n auto --dist loadfile --no-loadscope-reorder

.DEFAULT_GOAL := help
.PHONY: help demo test test-any-cpu test-page lint bench screenshot clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

fixtures/digits.parquet: | $(STAMP)
	$(BIN)/python fixtures/make_digits.py $@

demo: $(STAMP) fixtures/digits.parquet ## set up, then write report.html from the digits (UMAP)
	$(BIN)/embproj project fixtures/digits.parquet --algo umap -o report.html
	@echo "Open report.html in a browser."

# numba's caches, filled once by one UMAP run that also places rows: pynndescent compiles ~40 kernels at its first
# import in a venv (~30 s) and embproj caches umap-learn's kernels once per machine. Without this, the test
# workers would each compile them, at the same time, on the same cores.
$(WARM): $(STAMP) fixtures/digits.parquet
	$(BIN)/embproj project fixtures/digits.parquet --algo umap --max-points all --fit-points 1000 --no-cache -o /dev/null -q
	touch $(WARM)

# The plugins are named, not found: pytest rewrites the asserts of every module of a plugin it finds by itself,
# and hypothesis's 70-odd modules cost each worker ~5 s at start.
test: $(STAMP) $(WARM) ## set up, then run the whole test suite (a test file per worker, one worker per core)
	$(PYTEST)

$(WARM_GENERIC): $(STAMP) fixtures/digits.parquet
	$(GENERIC) $(BIN)/embproj project fixtures/digits.parquet --algo umap --max-points all --fit-points 1000 --no-cache -o /dev/null -q
	touch $(WARM_GENERIC)

test-any-cpu: $(STAMP) $(WARM_GENERIC) ## the suite again as another CPU computes (generic OpenBLAS and numba kernels); CI runs it
	$(GENERIC) $(PYTEST)

# The page's scripts alone: Node's test runner on tests/js, given the cases Python makes (no browser).
test-page: $(STAMP) ## the page's JavaScript unit tests only (Node, no browser: a few seconds)
	$(BIN)/python -m pytest -q tests/test_page_js.py

lint: $(STAMP) $(NODE_STAMP) ## ruff check, format check, mypy type check, and ESLint on the page's JavaScript
	$(BIN)/ruff check embproj tests benchmarks fixtures docs
	$(BIN)/ruff format --check embproj tests benchmarks fixtures docs
	$(BIN)/mypy embproj
	node_modules/.bin/eslint templates/js tests/js eslint.config.mjs

bench: $(STAMP) fixtures/digits.parquet ## measure speed and memory against the hand-written script (BENCH_ARGS=--scale: 100k and 1M rows; --explain: clusters and charts)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

screenshot: $(STAMP) fixtures/digits.parquet ## write docs/digits.png: the digits UMAP report in headless Chromium
	$(BIN)/python docs/screenshot.py fixtures/digits.parquet docs/digits.png

clean: ## remove the venv, node_modules, caches and generated reports
	rm -rf $(VENV) node_modules .pytest_cache report.html fixtures/digits.parquet
