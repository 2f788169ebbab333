# Two commands do all set-up on a fresh clone: `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mmbyol-installed

.PHONY: demo test install clean

install: $(STAMP)

# Re-installs only when the dependency list changes.
$(STAMP): setup.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q 'setuptools<80' wheel
	$(PY) -m pip install -q -e '.[tests]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) tools/demo.py

test: $(STAMP)
	$(PY) -m pytest -q

# MMDetection with full mmcv (compiled ops) in .venv-detection; the mmcv
# wheel is compiled once per machine and cached, a second run is a no-op.
.PHONY: detection test-detection
detection:
	bash tools/build_detection_env.sh .venv-detection

# The whole suite with the detection stack, tests/detection included.
test-detection: detection
	.venv-detection/bin/python -m pytest -q

clean:
	rm -rf $(VENV) work_dirs *.egg-info
