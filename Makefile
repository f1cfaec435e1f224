# The two commands a new user needs: `make run` and `make test` (see README.md).
SHELL := /bin/sh
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck format setup clean-state

run: setup
	$(PY) scripts/run.py

test: setup
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; fi; exit $$rc

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# DEBUG=true: the django-stubs plugin imports the settings, which need no environment then.
typecheck: setup
	DEBUG=true $(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

setup: $(STAMP)

# Rebuilt whenever pyproject.toml (the pins) changes.
$(STAMP): pyproject.toml scripts/requirements.py
	@python=$$(scripts/find-python) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		rm -rf $(VENV); echo "Building $(VENV) with $$python"; $$python -m venv $(VENV) || exit 1; \
	fi
	$(PY) scripts/requirements.py dev > $(VENV)/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(VENV)/requirements.txt
	touch $(STAMP)

# Forget the local database, demo logins and sandbox state (make run starts afresh).
clean-state:
	rm -rf var
