# Two commands for a fresh machine: `make run` serves the bundled library, `make test` tests it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test index validate bench clean browser pdf-libs axe

run: $(VENV)/.installed pdf-libs
	-$(BIN)/kb validate
	$(BIN)/kb index
	$(BIN)/kb schools import content/data/school-context.csv content/data/school-indicators.csv
	$(BIN)/kb serve --no-index

test: $(VENV)/.installed-test browser pdf-libs axe
	$(BIN)/pytest

index: $(VENV)/.installed
	$(BIN)/kb index

bench: $(VENV)/.installed-bench
	$(BIN)/kb bench api

# torch first, pinned to the local CPU build; a looser requirement pulls CUDA wheels.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

# The bench extra (matplotlib, httpx) for `kb bench`; `make run` does without it.
$(VENV)/.installed-bench: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@

# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# axe-core (WCAG checks injected into every page by tests/test_browser_pages.py), from npm
# into a git-ignored folder; skipped when present.
AXE := .cache/axe/node_modules/axe-core/axe.min.js
axe:
	@test -f $(AXE) || { \
	  command -v npm >/dev/null 2>&1 || { \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null; }; \
	  npm install --silent --no-audit --no-fund --prefix .cache/axe axe-core@4; }

# PDF handouts: WeasyPrint lays pages out with Debian's Pango (and HarfBuzz for font subsets).
PDF_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
pdf-libs:
	@dpkg -s $(PDF_LIBS) >/dev/null 2>&1 || { \
	  echo "Installing Pango and fonts for PDF handouts"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(PDF_LIBS) >/dev/null; }

# var/state.db holds accounts and submissions: never delete it here (see `kb backup`).
clean:
	rm -rf var/index .pytest_cache
