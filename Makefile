# Two commands on a fresh Debian/Ubuntu machine (see README "Quick start"):
#   make run    venv + project + front-end files, then serve the demo office on SQLite
#   make test   the same plus test deps, redis-server and chromium, then pytest
# Variables: make run HOST=0.0.0.0 PORT=8080 CONFIG=config.toml DATA=var
#            make test PYTEST_ARGS="-m 'not slow'"

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080
CONFIG ?= config.toml
DATA   ?= var
PYTEST_ARGS ?=
APT    := DEBIAN_FRONTEND=noninteractive apt-get

NODE   := $(if $(wildcard package.json),node:nodejs npm:npm)

# $(call ensure,program:package ...): apt-get install the missing ones (one update;
# root only, else say what to install and stop).
ensure = missing=""; \
	for pair in $(1); do command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair\#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then $(APT) update && $(APT) install -y $$missing; \
	  else echo "missing:$$missing; run: sudo apt-get install -y$$missing" >&2; exit 1; fi; \
	fi

.PHONY: run test install install-test static system-deps system-deps-test clean

run: system-deps install static
	$(BIN)/satupintu serve --config $(CONFIG) --data-dir $(DATA) --host $(HOST) --port $(PORT)

test: system-deps-test install-test static
	$(BIN)/pytest $(PYTEST_ARGS)

system-deps:
	@$(call ensure,$(NODE))

# Redis and browser tests never skip: without these programs they fail.
system-deps-test:
	@$(call ensure,redis-server:redis-server chromium:chromium $(NODE))

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

install-test: $(VENV)/.installed-test
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

# The pages load their browser libraries from satupintu/static/vendor/ (no CDN):
# package.json's build script copies them there from node_modules.
ifneq ($(wildcard package.json),)
static: node_modules/.satupintu-built
node_modules/.satupintu-built: package.json $(wildcard package-lock.json) $(wildcard scripts/*.mjs)
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; \
	else npm install --no-audit --no-fund; fi
	npm run build
	touch $@
else
static:
	@true
endif

clean:
	rm -rf $(VENV) node_modules .pytest_cache .hypothesis *.egg-info build dist
