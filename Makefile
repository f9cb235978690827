# The course's commands. Everything runs inside a local virtual environment (.venv) that the
# Makefile builds from pyproject.toml; nothing relies on what happens to be installed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
KERNEL := $(VENV)/.kernel-installed
# nbgrader runs helper programs (alembic) by name: the environment's scripts come first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help venv demo test release grade feedback report lab images bench clean

help:
	@echo "make demo     the whole assignment life cycle on a demo class (SQLite gradebook)"
	@echo "make test     the whole test suite (what CI runs)"
	@echo "make release  regenerate release/ from source/ with nbgrader generate_assignment"
	@echo "make grade    autograde everything in submitted/ (parallel, integrity-checked)"
	@echo "make feedback feedback HTML for everything graded (hidden tests not shown)"
	@echo "make report   grades.csv, a Canvas CSV and the class report in reports/"
	@echo "make bench    time make grade against plain sequential nbgrader autograde"
	@echo "make lab      open the released notebooks in JupyterLab"
	@echo "make images   regenerate the README pictures under docs/images/"

venv: $(STAMP) $(KERNEL)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# The grading kernel's spec names the sandbox launcher: reinstalled whenever the launcher changes.
$(KERNEL): $(STAMP) classgrader/grade/sandbox.py
	$(PY) -m classgrader install-kernel
	@touch $@

release: venv
	$(PY) -m classgrader release

demo: venv
	$(PY) -m classgrader demo

grade: venv
	$(PY) -m classgrader grade $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT)) $(if $(JOBS),--jobs $(JOBS)) $(if $(STRICT),--strict) $(if $(FORCE),--force) $(if $(SHARD),--shard $(SHARD) --artifact shards/$(subst /,-of-,$(SHARD)))

feedback: venv
	$(PY) -m classgrader feedback

report: venv
	$(PY) -m classgrader report

test: venv
	$(PY) -m pytest -n 2 --dist loadgroup

lab: venv
	cd release && ../$(VENV)/bin/jupyter lab

images: venv
	$(PY) -m mlviz.gallery docs/images

clean:
	rm -rf $(VENV) gradebook.db grades.csv

bench: venv
	$(PY) -m classgrader.bench $(if $(JOBS),--jobs $(JOBS))
