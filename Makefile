# Quick start on a fresh clone:
#   make demo   set-up, then the main job on data bundled in the package
#   make test   set-up, then the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.ganaug-installed
# Never more BLAS/OpenMP threads than cores (two CPU-heavy pools on 2 cores slow torch tenfold).
export OMP_NUM_THREADS ?= $(shell $(PYTHON) -c "import os; print(len(os.sched_getaffinity(0)))" 2>/dev/null || echo 2)

.PHONY: install demo test test-fast doctest docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) pipelines/tabular_benchmark.py --out results/tabular_benchmark

test: install
	$(PY) -m pytest tests
	$(PY) -m pytest --doctest-modules ganaug -q -p no:cacheprovider
	$(MAKE) --no-print-directory docs

doctest: install
	$(PY) -m pytest --doctest-modules ganaug -q -p no:cacheprovider

# API reference and guides; warnings are errors
docs: install
	GANAUG_PROGRESS=0 $(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html

test-fast: install
	$(PY) -m pytest tests -m "not slow"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache results
