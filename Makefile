# mmexact — all set-up is done here, idempotently, into a project-local venv.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.mmexact-installed
MAX_JOBS ?= 2
# pytest-xdist workers for the end-to-end tests (one thread each; they
# mostly wait on the tool processes they start)
TEST_JOBS ?= 2

.PHONY: install test test-fast demo demo-region clean-venv

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip "setuptools>=77,<82" wheel
	# PyPI's torch build (not a local +cpu wheel): torchvision needs it
	$(PIP) install "torch===2.13.0" "torchvision==0.28.0"
	# mmcv has no wheels on PyPI: build it (with ops) against the torch above
	$(PY) -c "import mmcv._ext" 2>/dev/null || \
	  MMCV_WITH_OPS=1 MAX_JOBS=$(MAX_JOBS) $(PIP) install --no-build-isolation "mmcv==2.1.0"
	$(PIP) install -r requirements.txt
	$(PIP) install --no-build-isolation --no-deps -e .
	$(PY) -c "import mmcv.ops, mmseg.models, mmpretrain.models, mmexact; print('mmexact environment ready')"
	touch $(STAMP)

test: install
	$(PY) -m pytest -q -m "not e2e" tests
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -m e2e -n $(TEST_JOBS) tests

test-fast: install
	$(PY) -m pytest -q -m "not e2e and not slow" tests

demo: install
	$(PY) tools/demo/run_demo.py

# train on a (synthetic) region of your own from image-level labels only
demo-region: install
	$(PY) tools/demo/run_own_region_demo.py

clean-venv:
	rm -rf $(VENV)
