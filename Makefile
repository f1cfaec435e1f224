# The two commands a new user needs: `make run` and `make test` (see README.md).
SHELL := /bin/sh
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

LOCK := requirements/dev.lock

.PHONY: run test lint typecheck contracts format setup lock clean-state

run: setup
	$(PY) scripts/run.py

# The production shape on this machine: PostgreSQL, DEBUG off, gunicorn, WORKERS task workers,
# the scheduler, under honcho with Procfile.production (README.md, "Production").
.PHONY: serve
serve: setup
	$(PY) scripts/serve.py

test: setup
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; fi; exit $$rc

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# DEBUG=true: the django-stubs plugin imports the settings, which need no environment then.
typecheck: setup
	DEBUG=true $(VENV)/bin/mypy

# The import contracts in pyproject.toml (import-linter): leaves, the Xero boundary, layers.
contracts: setup
	$(VENV)/bin/lint-imports

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

setup: $(STAMP) $(NODE_STAMP)

# Exactly the lock: every package of the tree at its locked version, each file checked
# against its hash, then `pip check` that the tree agrees with itself. Rebuilt whenever the lock changes; refused while it is older than the pins.
$(STAMP): $(LOCK) pyproject.toml scripts/lock.py
	@python=$$(scripts/find-python) || exit 1; \
	$$python scripts/lock.py --check || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		rm -rf $(VENV); echo "Building $(VENV) with $$python"; $$python -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip check --disable-pip-version-check || exit 1
	touch $(STAMP)

# axe-core for the browser tests' accessibility check: exactly package-lock.json, no package's
# install scripts run. Without npm the check is skipped (and says so); nothing else needs it.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch $(NODE_STAMP); \
	else \
		echo "npm is missing: the browser tests' accessibility check will be skipped (apt-get install -y npm)"; \
	fi

# Resolve pyproject.toml's pins again into requirements/*.lock (needs the package index).
# uv does the resolving, from a throwaway virtualenv of its own under var/.
UV_VERSION := 0.13.8
lock:
	@python=$$(scripts/find-python) || exit 1; \
	if [ ! -x var/lock-tools/bin/uv ]; then \
		$$python -m venv var/lock-tools && var/lock-tools/bin/pip install --quiet uv==$(UV_VERSION) || exit 1; \
	fi; \
	$$python scripts/lock.py var/lock-tools/bin/uv

# Forget the local database, demo logins and sandbox state (make run starts afresh).
clean-state:
	rm -rf var
