# The project's front door. `make book` and `make test` are the whole set-up on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BOOK_FLAGS := --all -W -n --keep-going  # --all: a page re-runs its notebook even when only mathchain changed
# Both editions read the outputs the English build computes (execute: cache in _config.yml).
NB_CACHE   := _build/.jupyter_cache

# Tests that need the built book (or the PDF): run after it is built, not with the package tests.
BUILT_TESTS := tests/test_rendered_book.py tests/test_kit.py tests/test_kit_lab.py tests/test_statistics.py \
               tests/test_pdf.py

.PHONY: help book book-en book-zh book-zh-cached kit pdf tex test test-serial test-pdf lint test-package test-notebooks test-book test-built test-rendered test-rendered-book test-kit-lab _test-package _test-notebooks _test-book _test-built _test-rendered-book _test-kit-lab browser lab notebooks bench screenshots clean

help:
	@echo "make book         create .venv, install everything, build the HTML book into _build/html"
	@echo "                  (English) and _build/html/zh (简体中文); make book-en / make book-zh: one"
	@echo "                  (with the course kit and the mathchain wheel it serves as downloads)"
	@echo "make kit          only the course kit and the wheel, into _build/kit"
	@echo "make test         lint (ruff, actionlint) + package tests + notebooks (nbval) + both editions built + zh catalogs"
	@echo "                  complete + kit + rendered-book tests (both editions)"
	@echo "                  (two at a time; make test-serial: one at a time)"
	@echo "make pdf          the PDF editions, _build/pdf/mathchain.pdf and mathchain-zh.pdf (installs XeLaTeX"
	@echo "                  with apt-get if root)"
	@echo "make test-pdf     make pdf, then check it with poppler-utils (CI runs it before make test)"
	@echo "make lab          open the chapter notebooks in JupyterLab (with jupyterlab-myst)"
	@echo "make notebooks    re-execute every chapter notebook in place (commit the fresh outputs)"
	@echo "make bench        run the benchmarks, write benchmarks/RESULTS.md"
	@echo "make screenshots  save a screenshot of every page of both editions to _build/screenshots/,"
	@echo "                  and of every kit notebook in JupyterLab to _build/screenshots/kit/"
	@echo "make clean        remove _build and caches (keeps .venv; rm -rf .venv to drop it)"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,book]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# The HTML build itself runs tools/build-kit (see _ext/), so the downloads it serves are never stale.
# Two editions: English in _build/html/, 简体中文 in _build/html/zh/ (tools/i18n). The notebooks run
# once, in the English build; the Chinese one reads their outputs from the cache.
book: book-zh-cached
	@echo "The book is at file://$(CURDIR)/_build/html/index.html (中文: file://$(CURDIR)/_build/html/zh/index.html)"

# One edition only: make book-en, or make book-zh (runs the notebooks itself).
book-en: $(STAMP)
	rm -rf $(NB_CACHE)
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)

book-zh: $(STAMP)
	rm -rf $(NB_CACHE)
	$(BIN)/python tools/i18n html

# (internal) the zh edition from the outputs the English build has just cached: after book-en, also
# under make -j
book-zh-cached: book-en
	$(BIN)/python tools/i18n html

# ruff, and actionlint on the GitHub workflows (nothing here can run them: this is their test)
lint: $(STAMP)
	$(BIN)/ruff check .
	bash tools/actionlint

kit: $(STAMP)
	$(BIN)/python tools/build-kit

tex:
	@bash tools/ensure-tex

# The PDF editions, English and 简体中文. The HTML book links each from its next build (make book).
pdf: $(STAMP) tex
	bash tools/build-pdf

test-package: $(STAMP)
	$(BIN)/pytest tests $(BUILT_TESTS:%=--ignore=%)

test-notebooks: $(STAMP)
	$(BIN)/pytest chapters

# Both editions, -W -n --keep-going each, and the zh catalogs complete for the current sources.
test-book: book
	$(BIN)/python tools/i18n check

browser:
	@bash tools/ensure-chromium
	@bash tools/ensure-axe >/dev/null

# What the build serves besides pages: the course kit (unpacked in /tmp, installed into a new venv
# from the package index, every notebook run there) and the execution statistics.
test-built: $(STAMP)
	$(BIN)/pytest tests/test_kit.py tests/test_statistics.py

# Every page of both editions in Chromium, and every notebook of both kits in JupyterLab (from the
# kit's own environment, installed once for test-built and this). The full-page screenshots (a picture of each
# page, not a check: about 100 s for the two editions) are make screenshots.
test-rendered: test-rendered-book test-kit-lab

test-rendered-book: $(STAMP) browser
	$(BIN)/pytest tests/test_rendered_book.py -k "not test_screenshot"

test-kit-lab: $(STAMP) browser
	$(BIN)/pytest tests/test_kit_lab.py -k "not test_screenshot"  # its own process: one Playwright each

# Every layer: lint, package, notebooks, book build, the kit and statistics, the book in a browser.
# Two at a time (2 cores): the package tests and nbval run while the book builds, and the kit runs
# while the pages are checked in the browser. The order the checks need is in _test-* below; each
# one's output is printed whole when it ends (--output-sync). One at a time: make test-serial.
test: lint
	$(MAKE) --no-print-directory -j2 --output-sync=target _test-package _test-notebooks _test-book \
	        _test-built _test-rendered-book _test-kit-lab

test-serial: lint test-package test-notebooks test-book test-built test-rendered

# (internal) the layers of make test with the order they need: the built tests after the build. The
# kit in JupyterLab follows the pages in the browser, beside the kit's own tests: both install the kit
# into one cached environment, one process at a time (tests/test_kit.py, installed_kit).
_test-package: test-package
_test-notebooks: test-notebooks
_test-book: test-book
_test-built: _test-book
	$(MAKE) --no-print-directory test-built
_test-rendered-book: _test-book browser
	$(MAKE) --no-print-directory test-rendered-book
_test-kit-lab: _test-rendered-book browser
	$(MAKE) --no-print-directory test-kit-lab

# Not in make test: it needs TeX (about 175 MB of Debian packages). .ci/run runs it first, so the
# book that make test builds links the PDF and the browser tests follow that link.
test-pdf: pdf
	$(BIN)/pytest tests/test_pdf.py

screenshots: $(STAMP) browser
	$(BIN)/pytest tests/test_rendered_book.py -k screenshot
	$(BIN)/pytest tests/test_kit_lab.py -k screenshot

# The chapters' MyST sources in JupyterLab, with jupyterlab-myst (the extra [lab]; make test does not
# install it). The kernels run with MATHCHAIN_BOOK=1 as in the book's build, so outputs saved here are
# the book's (chapters/_book.py) and nbval still agrees with them.
LAB_STAMP := $(VENV)/.lab-installed
$(LAB_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,book,lab]'
	touch $@

lab: $(LAB_STAMP)
	MATHCHAIN_BOOK=1 $(BIN)/jupyter lab chapters/

notebooks: $(STAMP)
	$(BIN)/python tools/run-notebooks

# JAX, the benchmarks' peer, is the bench extra: installed here, not for the book or the tests.
$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[bench]'
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis .benchmarks
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
