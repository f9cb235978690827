"""The gradebook on PostgreSQL: the course's grader, unchanged, with nbgrader's ``db_url`` pointing
at a real PostgreSQL server instead of the SQLite file.

A private throw-away cluster is started in a temporary folder, listening on loopback only on a free
port, and removed afterwards whatever happens. A scratch course gets the course's own
``nbgrader_config.py`` with one line appended that points ``c.CourseDirectory.db_url`` at it. Then,
as an instructor would: ``python -m classgrader release``, a small demo class (perfect, blank and
the first catalogued mistakes), ``python -m classgrader grade --jobs 2`` (two worker processes
writing to the gradebook at once) and ``nbgrader export``. Every student must get exactly the
score the catalogue implies, and the scores must really be in PostgreSQL, not in a stray SQLite
file.

Needs PostgreSQL's server programs (Debian's ``postgresql`` package, installed here when missing
and running as root) and the ``psycopg`` driver (the ``dev`` extra); skipped, with the reason,
when either cannot be had.
"""
from __future__ import annotations

import contextlib
import csv
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from classgrader.demo.builder import BLANK, PERFECT, build_class
from classgrader.demo.expectations import read_result
from classgrader.grade.runner import Outcome
from classgrader.model.catalogue import load_catalogue
from classgrader.model.course import Course, temporary_course, tool_environment
from classgrader.model.notebooks import autograded_items
from classgrader.model.status import STATUS_FILE
from conftest import COURSE

pytestmark = pytest.mark.xdist_group("postgres")

ASSIGNMENT = "01-derivatives"
MISTAKES = 6                    # perfect + blank + this many catalogued mistakes
DB_USER, DB_PASSWORD, DB_NAME = "grader", "grader-pw", "gradebook"
DRIVER = "psycopg"              # SQLAlchemy 2's dialect name for psycopg 3


# ---------------------------------------------------------------------------------------------
# The server


def _server_bindir() -> Path | None:
    """The newest PostgreSQL ``bin`` folder holding both ``initdb`` and ``pg_ctl``."""
    def version(path: str) -> tuple:
        name = Path(path).parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit()) or (0,)

    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if all(os.access(Path(candidate) / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return Path(candidate)
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        bindir = Path(initdb).resolve().parent
        if (bindir / "pg_ctl").exists():
            return bindir
    return None


def _ensure_server_programs() -> Path:
    """Find PostgreSQL's server programs, installing Debian's package if need be (root only)."""
    bindir = _server_bindir()
    if bindir:
        return bindir
    if os.geteuid() != 0:
        pytest.skip("PostgreSQL server programs (initdb, pg_ctl) not found, and not root to install them")
    if not shutil.which("apt-get"):
        pytest.skip("PostgreSQL server programs (initdb, pg_ctl) not found, and no apt-get to install them")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]):
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as err:
            pytest.skip(f"cannot install PostgreSQL: {' '.join(command)}: {err}")
        if done.returncode != 0:
            pytest.skip(f"cannot install PostgreSQL: {' '.join(command)} exited {done.returncode}: "
                        f"{(done.stderr or done.stdout).strip()[-500:]}")
    bindir = _server_bindir()
    if not bindir:
        pytest.skip("installed Debian's postgresql package, but still found no initdb and pg_ctl")
    return bindir


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _private_cluster(bindir: Path):
    """A throw-away PostgreSQL cluster on 127.0.0.1; yields the SQLAlchemy URL of its database.

    PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` system user
    (created by Debian's package) and owns the temporary folder.
    """
    psycopg = pytest.importorskip("psycopg", reason="the PostgreSQL driver psycopg (dev extra) is not installed")
    as_server_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' system user to run the server as")
        runuser = shutil.which("runuser")
        as_server_user = [runuser, "-u", "postgres", "--"] if runuser else None
        if as_server_user is None:
            pytest.skip("running as root and there is no runuser to start the server as 'postgres'")

    # Not pytest's tmp_path: its parent is private to root, and the server user must get in.
    home = Path(tempfile.mkdtemp(prefix="classgrader-pg-"))
    data, log = home / "data", home / "server.log"
    if owner:
        os.chown(home, owner.pw_uid, owner.pw_gid)
    port = _free_port()

    def server(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([*as_server_user, *args], cwd=home, capture_output=True, text=True,
                              timeout=timeout)

    started = False
    try:
        done = server(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
                      "--no-locale", "--auth-local=trust", "--auth-host=scram-sha-256")
        assert done.returncode == 0, f"initdb failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        options = (f"-k {home} -p {port} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        done = server(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                      "-o", options, "start")
        started = True
        assert done.returncode == 0, (f"pg_ctl start failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
                                      f"\n{log.read_text()[-2000:] if log.exists() else ''}")
        # The role and the database, over the Unix socket (trusted) as the cluster's superuser.
        with psycopg.connect(host=str(home), port=port, user="postgres", dbname="postgres",
                             autocommit=True) as admin:
            admin.execute(f"CREATE ROLE {DB_USER} LOGIN PASSWORD '{DB_PASSWORD}'")
            admin.execute(f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}")
        # The grader connects over TCP on loopback with the password, like a real deployment.
        yield f"postgresql+{DRIVER}://{DB_USER}:{DB_PASSWORD}@127.0.0.1:{port}/{DB_NAME}"
    finally:
        if started:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                server(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "60",
                       "stop", timeout=90)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def db_url():
    bindir = _ensure_server_programs()
    with _private_cluster(bindir) as url:
        yield url


@pytest.fixture(scope="module")
def pg_course(db_url):
    root = temporary_course(COURSE, [ASSIGNMENT])
    try:
        with open(root / "nbgrader_config.py", "a", encoding="utf-8") as config:
            config.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")
        yield Course(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# The test


def _classgrader(course: Course, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "classgrader", "--course", str(course.root), *args],
                          capture_output=True, text=True, timeout=900, env=tool_environment())


def test_grading_in_parallel_into_a_postgresql_gradebook(pg_course, db_url):
    from sqlalchemy import create_engine, text

    course = pg_course
    assert course.db_url == db_url, "the appended line must be the gradebook nbgrader uses"

    started = time.perf_counter()
    done = _classgrader(course, "release")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    assignment = course.assignment(ASSIGNMENT)
    expectations = build_class(course, [assignment], with_broken=False)
    mistakes = [e for e in expectations if e.kind == "mistake"]
    assert len(mistakes) >= MISTAKES, "the catalogue has fewer mistakes than this test grades"
    keep = [e for e in expectations if e.kind in (PERFECT, BLANK)] + mistakes[:MISTAKES]
    for e in expectations:
        if e not in keep:
            shutil.rmtree(course.folder("submitted") / e.student, ignore_errors=True)
    students = sorted(e.student for e in keep)
    assert sorted(p.name for p in course.folder("submitted").iterdir()) == students

    done = _classgrader(course, "grade", "--jobs", "2")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    status = {r["student"]: r for r in json.loads((course.root / STATUS_FILE).read_text())}
    assert sorted(status) == students
    not_graded = {s: (r["status"], r["reason"]) for s, r in status.items() if r["status"] != "graded"}
    assert not not_graded, f"every submission must be graded plainly: {not_graded}"

    done = subprocess.run([sys.executable, "-m", "nbgrader", "export"], cwd=course.root,
                          capture_output=True, text=True, timeout=300, env=tool_environment())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"release, grade --jobs 2 and export of {len(students)} students on PostgreSQL: "
          f"{time.perf_counter() - started:.1f} s")

    # grades.csv: what the catalogue implies, student by student.
    items = autograded_items(nbformat.read(course.source_notebook(assignment), as_version=4))
    auto_max = sum(items.values())
    assert auto_max > 0
    catalogue = {m.student: m for m in load_catalogue(assignment)}
    with open(course.root / "grades.csv", newline="") as handle:
        rows = {r["student_id"]: r for r in csv.DictReader(handle) if r["assignment"] == ASSIGNMENT}
    assert sorted(rows) == students
    expected = {PERFECT: auto_max, BLANK: 0.0}
    for e in mistakes[:MISTAKES]:
        expected[e.student] = auto_max - sum(items[item] for item in catalogue[e.student].loses)
    got = {s: float(r["score"]) for s, r in rows.items()}
    assert got == pytest.approx(expected)
    # max_score also counts the hand-graded written answer, which nobody has graded yet.
    assert all(float(r["max_score"]) > auto_max for r in rows.values())

    # Item by item, read back through nbgrader's Gradebook on PostgreSQL: exactly the catalogued
    # items are lost, with the catalogued words in the failure messages.
    for e in keep:
        result = read_result(course, e, Outcome(e.student, e.assignment, status[e.student]["status"]))
        assert result.ok, f"{e.student}: {'; '.join(result.problems)}"

    # The data really is in PostgreSQL, and nothing fell back to an SQLite file.
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            assert connection.dialect.name == "postgresql"
            in_db = sorted(connection.execute(text("SELECT id FROM student")).scalars())
            grade_cells = connection.execute(text("SELECT count(*) FROM grade_cells")).scalar_one()
            grades = connection.execute(text("SELECT count(*) FROM grade")).scalar_one()
            scored = connection.execute(text(
                "SELECT s.id, sum(g.auto_score) FROM grade g "
                "JOIN submitted_notebook n ON g.notebook_id = n.id "
                "JOIN submitted_assignment a ON n.assignment_id = a.id "
                "JOIN student s ON a.student_id = s.id GROUP BY s.id")).all()
    finally:
        engine.dispose()
    assert in_db == students
    assert grade_cells > len(items) and grades == len(students) * grade_cells
    assert {s: float(v or 0) for s, v in scored} == pytest.approx(expected)
    assert not (course.root / "gradebook.db").exists()
    assert not list(course.root.rglob("*.db")), "an SQLite file appeared in the scratch course"
