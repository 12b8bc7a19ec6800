# Diptych — the two commands: `make demo` and `make test`.
# Each bootstraps a virtualenv from requirements.txt (reinstalling when it changes).
PYTHON ?= python3
VENV ?= $(HOME)/.cache/diptych/venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements.sha256
REQ_HASH := $(shell sha256sum requirements.txt | cut -d' ' -f1)
DATA ?= ../shared/data/mediaeval2016_vmu

.PHONY: venv demo engine-demo test bench

venv:
	@if [ ! -x "$(PY)" ]; then $(PYTHON) -m venv "$(VENV)"; fi
	@if [ "$$(cat $(STAMP) 2>/dev/null)" != "$(REQ_HASH)" ]; then \
		"$(PY)" -m pip install --quiet --upgrade pip && \
		"$(PY)" -m pip install --quiet -r requirements.txt && \
		echo "$(REQ_HASH)" > "$(STAMP)"; \
	fi

demo: venv
	scripts/system_packages.sh
	"$(PY)" manage.py demo --data "$(DATA)"

engine-demo: venv
	scripts/system_packages.sh
	"$(PY)" -m clustering_engine run --data "$(DATA)/pairs.csv" --images "$(DATA)" --out demo_output

test: venv
	scripts/test.sh "$(PY)"

bench: venv
	"$(PY)" benchmarks/run_all.py
