# The task runner. `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The CPU build of PyTorch; set TORCH_SPEC (and PIP_EXTRA_INDEX_URL) for a CUDA build.
TORCH_SPEC ?= torch==2.13.0

.PHONY: run test install fonts lint format check migrate web worker beat bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## fonts: the Debian fonts the generated negatives draw with (training and evaluating digits)
fonts: $(STAMP)
	$(BIN)/python -m ml data fonts --install

## run: the whole platform (web + worker + beat) on embedded defaults at http://127.0.0.1:$PORT
run: $(STAMP)
	DEBUG=$${DEBUG:-true} $(BIN)/python -m hdrsite.launch

## test: the whole suite (PostgreSQL/Redis when DATABASE_URL/CELERY_BROKER_URL point at them)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: lint
	$(BIN)/python manage.py makemigrations --check --dry-run

migrate: $(STAMP)
	$(BIN)/python manage.py migrate
	$(BIN)/python manage.py models_builtin

web: $(STAMP)
	$(BIN)/gunicorn -c python:hdrsite.gunicorn_conf hdrsite.wsgi --bind 127.0.0.1:$${PORT:-8000}

worker: $(STAMP)
	$(BIN)/celery -A worker worker --queues cpu,gpu --prefetch-multiplier $${HDR_WORKER_PREFETCH:-4} --loglevel INFO

beat: $(STAMP)
	$(BIN)/celery -A worker beat --loglevel INFO

bench: $(STAMP)
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf var/test .pytest_cache .ruff_cache
