# The course's commands. Everything runs inside a local virtual environment (.venv) that the
# Makefile builds from pyproject.toml; nothing relies on what happens to be installed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Optional dependencies: dev (the test suite, with the browser test) by default; the grading
# workflow sets EXTRAS= (empty) to install only what grading needs.
EXTRAS ?= dev
STAMP  := $(VENV)/.installed$(if $(EXTRAS),-$(EXTRAS))
# nbgrader runs helper programs (alembic) by name: the environment's scripts come first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help venv demo test release grade collect return feedback report lab images bench loadtest sweep clean student-kit

help:
	@echo "make demo     the whole assignment life cycle on a demo class (SQLite gradebook)"
	@echo "make test     the whole test suite (what CI runs)"
	@echo "make release  regenerate release/ from source/ with nbgrader generate_assignment"
	@echo "make grade    autograde everything in submitted/ (parallel, integrity-checked)"
	@echo "make collect  bring the roster's GitHub Classroom repositories into submitted/"
	@echo "make return   push feedback and scores back to the students' repositories"
	@echo "make feedback feedback HTML for everything graded (hidden tests not shown)"
	@echo "make report   grades.csv, a Canvas CSV and the class report in reports/"
	@echo "make bench    time make grade against plain sequential nbgrader autograde (SIZE=large: 500+ notebooks)"
	@echo "make loadtest [LOADTEST_SIZE=400] [LOADTEST_JOBS=6]  a big class killed half-way and resumed, SQLite and PostgreSQL"
	@echo "make sweep [SEEDS=20] [ASSIGNMENT=...]  every demo submission's hidden tests for SEEDS students: does each catalogue hold?"
	@echo "make lab      open the released notebooks in JupyterLab"
	@echo "make images   regenerate the README pictures under docs/images/"
	@echo "make student-kit [KIT=path]  the student kit (default build/student-kit): no answers in it"

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.$(if $(EXTRAS),[$(EXTRAS)])'
	@touch $@

release: venv
	$(PY) -m classgrader release

demo: venv
	$(PY) -m classgrader demo $(if $(ALL_MISTAKES),--all-mistakes)

grade: venv
	$(PY) -m classgrader grade $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT)) $(if $(JOBS),--jobs $(JOBS)) $(if $(STRICT),--strict) $(if $(FORCE),--force) $(if $(SHARD),--shard $(SHARD) --artifact shards/$(subst /,-of-,$(SHARD))) $(if $(ACCEPT_FAILURES),--accept-failures)

collect: venv
	$(PY) -m classgrader roster
	$(PY) -m classgrader collect $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT)) $(if $(ACCEPT_FAILURES),--accept-failures)

return: venv
	$(PY) -m classgrader return $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT)) $(if $(ACCEPT_FAILURES),--accept-failures)

feedback: venv
	$(PY) -m classgrader feedback

report: venv
	$(PY) -m classgrader report

test: venv
	$(PY) -m pytest -n 2 --dist loadgroup --durations=25

lab: venv
	cd release && ../$(VENV)/bin/jupyter lab

KIT ?= build/student-kit
student-kit: venv
	$(PY) -m classgrader kit --out $(KIT)

images: venv
	$(PY) -m mlviz.gallery docs/images

clean:
	rm -rf $(VENV) gradebook.db grades.csv

bench: venv
	$(PY) -m classgrader.bench $(if $(JOBS),--jobs $(JOBS)) $(if $(SIZE),--size $(SIZE))

# Not part of `make test` (tens of minutes): figures in test-artifacts/loadtest-*.json.
sweep: venv
	$(PY) -m classgrader sweep --seeds $(or $(SEEDS),20) $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))

loadtest: venv
	$(PY) -m pytest tests/load/loadtest_grading.py -s -p no:cacheprovider
