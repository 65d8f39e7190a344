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
	$(BIN)/python manage.py indexuseremails
	$(BIN)/python manage.py loadcurriculum
	$(BIN)/python manage.py seeddemo

run: setup
	@echo "Starting the platform at http://127.0.0.1:8000 (Ctrl+C stops it)"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

dev-setup: $(VENV)/.installed-dev

# Two phases: the tests that use the real services (Celery workers, gunicorn, beat, Redis, a browser)
# one at a time, as they share the broker's queue and the machine's ports and measure timings; then
# the rest on two pytest-xdist workers. pytest's exit code 5 means it collected no test: when neither
# phase collected any, that is a failure, said plainly.
test: dev-setup
	@export DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL); \
		$(BIN)/pytest -m "integration or e2e" $(PYTEST_ARGS); services=$$?; \
		$(BIN)/pytest -n 2 -m "not integration and not e2e" $(PYTEST_ARGS); rest=$$?; \
		if [ $$services -eq 5 ] && [ $$rest -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 5; fi; \
		for status in $$services $$rest; do \
			if [ $$status -ne 0 ] && [ $$status -ne 5 ]; then exit $$status; fi; \
		done

lint: dev-setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

worker: $(VENV)/.installed
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=2

beat: $(VENV)/.installed
	$(BIN)/celery -A config beat --loglevel=INFO
