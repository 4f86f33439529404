# One command each, on a fresh machine (Debian, Python 3.11):
#   make book   install everything, run every chapter with papermill and build the HTML book
#   make test   install everything and run the whole test suite (unit, fidelity, nbval, browser)
#   make pdf    print the built book (make book first) to _build/quantum-clusters.pdf
PY      ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
SYSDEPS := chromium fonts-noto-cjk

.PHONY: book test pdf install sysdeps bench book-bench clean

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "error: $(PY) not found (Python 3.11 is required)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

# System packages the browser test and CJK figure labels need (Debian names).
sysdeps:
	@missing=""; for p in $(SYSDEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

book: $(STAMP)
	$(BIN)/python -m quantumclusters build

test: $(STAMP) sysdeps
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --ignore=book/profiles tests book

pdf: $(STAMP) sysdeps
	$(BIN)/python -m quantumclusters pdf

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_rank.py

clean:
	rm -rf _build

# Book build timings: a clean full build and a prose-only rebuild (see benchmarks/bench_book.py).
book-bench: $(STAMP)
	$(BIN)/python benchmarks/bench_book.py
