# Two commands a new user needs: `make run` (set up and start) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The test suite runs against the PostgreSQL and Redis on this machine; override to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=

.PHONY: run setup dev-setup test lint worker beat

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py loadcurriculum
	$(BIN)/python manage.py seeddemo

run: setup
	@echo "Starting the platform at http://127.0.0.1:8000 (Ctrl+C stops it)"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

dev-setup: $(VENV)/.installed-dev

# Two pytest-xdist workers; the tests that use the real services share one of them (tests/conftest.py).
# pytest's exit code 5 means it collected no test: a failure here, said plainly.
test: dev-setup
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS); status=$$?; \
		if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing" >&2; fi; exit $$status

lint: dev-setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

worker: $(VENV)/.installed
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=2

beat: $(VENV)/.installed
	$(BIN)/celery -A config beat --loglevel=INFO
