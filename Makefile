# Guichet: `make run` starts the platform, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
MO := forms_app/translations/en/LC_MESSAGES/messages.mo

.PHONY: install browser run worker test lint format translations extract-messages constraints bench clean

install: $(STAMP) $(MO)

$(STAMP): setup.cfg pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt pip setuptools wheel
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,dev]'
	touch $@

$(MO): forms_app/translations/en/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -d forms_app/translations

translations: $(MO)

## Start web + worker (+ an embedded Redis if none answers) on http://127.0.0.1:$${PORT:-5000}/
run: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) pki demo
	exec $(BIN)/python -m forms_app.launcher

## System tools the tests drive: Debian's Chromium (Playwright cannot download browsers here)
## poppler-utils (pdfsig and pdftotext read the signed PDFs back) and libnss3-tools (certutil
## makes the NSS database through which pdfsig trusts the demo CA), nginx-light (the example
## reverse-proxy configuration of docs/deploy is run in front of a web process)
CHROMIUM := /usr/bin/chromium
PDFSIG := /usr/bin/pdfsig
CERTUTIL := /usr/bin/certutil
NGINX := /usr/sbin/nginx
TOOLS := -x $(CHROMIUM) -a -x $(PDFSIG) -a -x $(CERTUTIL) -a -x $(NGINX)
PACKAGES := chromium poppler-utils libnss3-tools nginx-light
browser:
	@test $(TOOLS) || { \
	  sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "make browser: installing Debian's $(PACKAGES)"; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y $(PACKAGES) \
	  || { $$sudo apt-get update && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y $(PACKAGES); }; \
	}
	@test $(TOOLS) || { \
	  echo "make browser: $(CHROMIUM), $(PDFSIG), $(CERTUTIL) or $(NGINX) is missing and could not be installed; the tests need them (apt-get install $(PACKAGES))." >&2; \
	  exit 1; }

## Run the whole suite (SQLite by default; TEST_DATABASE_URL=postgresql+psycopg://... for PostgreSQL)
test: install browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -o forms_app/translations/messages.pot .
	$(BIN)/pybabel update -i forms_app/translations/messages.pot -d forms_app/translations

constraints: install
	{ sed -n '1,2p' constraints.txt; $(BIN)/pip freeze --exclude-editable; \
	  $(BIN)/pip list --format=freeze | grep -E '^(pip|setuptools|wheel)=='; } > constraints.tmp
	mv constraints.tmp constraints.txt

## Benchmarks, each against a baseline of the same run; each records its section of
## bench/results.md. BENCH_REQUESTS sizes the processing run (10,000 by default: about 45
## minutes on two cores; `make bench BENCH_REQUESTS=1000` for a quicker pass).
BENCH_REQUESTS ?= 10000
bench: install
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/payment_acts.py
	$(BIN)/python bench/inbox.py
	$(BIN)/python bench/dashboards.py
	$(BIN)/python bench/outbox_dispatch.py
	$(BIN)/python bench/processing.py --requests $(BENCH_REQUESTS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
