# The README's set-up commands. Both create .venv if needed; `demo` installs only
# what colorizing needs (no torch), `test` adds the [train,dev,scale] extras the tests use.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench screenshots install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps in the venv: each install reruns when pyproject.toml changes.
$(VENV)/.installed-core: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[train,dev,scale]'
	touch $@ $(VENV)/.installed-core

## install: the core package only (colorize, evaluate, serve; no torch)
install: $(VENV)/.installed-core

## install-dev: the package with the training and test extras
install-dev: $(VENV)/.installed-dev

## demo: colorize the bundled sample photos with the bundled model into demo_out/
demo: install
	$(BIN)/chromatize colorize --samples --compare --overwrite -o demo_out

## test: lint (undefined names, syntax errors) and run the test suite
test: install-dev
	$(BIN)/ruff check --quiet --select F,E9 src tests bench
	$(BIN)/python -m pytest -q

## bench: print the speed and quality figures (quality needs ../shared/datasets)
bench: install
	$(BIN)/python bench/mlp_speed.py
	$(BIN)/python bench/infer_speed.py

## screenshots: the web page in headless Chromium, step by step, into docs/screenshots/
screenshots: install-dev
	CHROMATIZE_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/test_web_e2e.py

clean:
	rm -rf $(VENV) demo_out
