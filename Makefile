# The README's set-up commands. Both create .venv and install chromatize into it.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench install clean

$(BIN)/chromatize: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[train,dev]'
	touch $@

install: $(BIN)/chromatize

## demo: colorize the bundled sample photos with the bundled model into demo_out/
demo: install
	$(BIN)/chromatize colorize --samples --compare --overwrite -o demo_out

## test: run the test suite
test: install
	$(BIN)/python -m pytest -q

## bench: print the speed and quality figures (quality needs ../shared/datasets)
bench: install
	$(BIN)/python bench/mlp_speed.py
	$(BIN)/python bench/infer_speed.py

clean:
	rm -rf $(VENV) demo_out
