# The two commands of the README: `make run` opens the app, `make test` runs the checks.
# Both create or reuse .venv and install what is missing first.
PYTHON := .venv/bin/python

.PHONY: setup run test lint bench

setup:
	@scripts/bootstrap.sh

run: setup
	$(PYTHON) main.py $(ARGS)

test: setup
	$(PYTHON) -m ruff check .
	QT_QPA_PLATFORM=offscreen $(PYTHON) -m pytest -q

lint: setup
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

bench: setup
	$(PYTHON) main.py bench
