# veille: two commands from a fresh clone (Python 3.11+, make, access to PyPI).
#   make demo   run the whole pipeline on the bundled demo sites (127.0.0.1) and write a digest
#   make test   install what the tests need and run them

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-test

.PHONY: demo test install bench clean help

help:
	@echo "make demo   - run the pipeline on the bundled demo sites and write a digest"
	@echo "make test   - install the test dependencies and run the test suite"
	@echo "make bench  - run the benchmarks (prints figures)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q pipeline  # as pip does for an installed package (none is written under PYTHONDONTWRITEBYTECODE)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/veille demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) outputs/demo .pytest_cache
