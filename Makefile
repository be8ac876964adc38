# The two commands a newcomer needs: `make demo` and `make test`. Everything they need is
# installed on first use (Python virtual environment from requirements.lock, npm packages from
# frontend/package-lock.json, the front-end build).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_OK  := $(VENV)/.installed
JS_OK  := frontend/node_modules/.installed
BUNDLE := src/relais/web/static/dist/widget.js
FRONT  := $(shell find frontend/src frontend/build.mjs frontend/tsconfig.json -type f 2>/dev/null)

.PHONY: demo test lint format bench build install clean

demo: build
	$(BIN)/relais demo

test: build
	$(BIN)/pytest

PY_DIRS := src tests $(wildcard bench)

lint: install $(JS_OK)
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)
	$(BIN)/mypy
	cd frontend && npm run --silent typecheck

format: install
	$(BIN)/ruff check --fix $(PY_DIRS)
	$(BIN)/ruff format $(PY_DIRS)

bench: build
	$(BIN)/python bench/chat_latency.py

build: install $(BUNDLE)

install: $(PY_OK)

$(PY_OK): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(JS_OK): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(BUNDLE): $(JS_OK) $(FRONT)
	cd frontend && npm run --silent build

clean:
	rm -rf $(VENV) frontend/node_modules src/relais/web/static/dist
