"""``classgrader collect``: student repositories (GitHub Classroom or any git host) into ``submitted/``.

For every student of the roster and every chosen assignment, the student's repository is cloned
with git (credentials: :mod:`classgrader.collect.git`) and the assignment is looked for in one of
two layouts:

* ``<assignment>/<notebook>.ipynb``: one repository for the whole course (the student kit);
* ``<notebook>.ipynb`` at the top: one repository per assignment.

A notebook whose cells are still the released ones is "not started" and not copied, so a course
repository holding every assignment from the first day costs nothing until the student works.

The files found are compared with ``submitted/<student>/<assignment>/``. Only when they differ is
the folder replaced, with nbgrader's ``timestamp.txt`` set to the time of the last commit that
touched the assignment, so that nbgrader's late penalties apply. Unchanged work is not touched at
all, so ``classgrader grade`` (which skips a submission whose autograded copy is newer) grades
nothing twice. A repository that cannot be cloned, or that holds no notebook where one is
expected, gets a reason and the others go on. Symbolic links and files larger than nbgrader's
``c.CourseDirectory.max_file_size`` are never copied.

A commit's date is written by the student's own git and can be set to anything. So a commit
that appears after a collection that did not see it is counted as handed in no earlier than that
collection: ``timestamp.txt`` holds the later of the two times, and the row says why.

Every row is recorded in ``collection.json`` next to the gradebook (``classgrader return`` reads
it to know where each student's work came from).
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from traitlets import TraitError, Unicode, validate
from traitlets.config import Configurable

from classgrader.collect.git import GitError, clone, git, git_environment
from classgrader.collect.roster import RosterEntry
from classgrader.model.course import TIMESTAMP_FILE, Assignment, Course, CourseError
from classgrader.model.status import COLLECTION_FILE, Collection

#: Folders of a student repository that are never part of a hand-in.
NEVER_COPIED = (".git", ".github", ".venv", "venv", "node_modules")


class Classroom(Configurable):
    """Where the students' repositories are (``c.Classroom.*`` in ``nbgrader_config.py``)."""

    organisation = Unicode("", help="the GitHub organisation of the classroom").tag(config=True)
    prefix = Unicode("{assignment}", help="the repository name's prefix GitHub Classroom uses "
                     "(the assignment's name there); may contain {assignment}").tag(config=True)
    url = Unicode("https://github.com/{organisation}/{prefix}-{github}.git",
                  help="each student's repository; fields: {organisation}, {prefix}, {github}, "
                       "{student} (nbgrader id), {assignment}").tag(config=True)
    branch = Unicode("", help="the branch to collect (default: each repository's own default)").tag(config=True)
    feedback_branch = Unicode("feedback", help="the branch `classgrader return` pushes to").tag(config=True)
    token_variable = Unicode("CLASSROOM_TOKEN", help="the environment variable holding the access "
                             "token (never stored anywhere)").tag(config=True)
    author = Unicode("Course grader <grader@invalid>", help="author of the feedback commits").tag(config=True)

    @validate("token_variable")
    def _shell_name(self, proposal):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", proposal["value"]):
            raise TraitError(f"token_variable must be an environment variable name, not {proposal['value']!r}")
        return proposal["value"]

    def repository(self, entry: RosterEntry, assignment: Assignment) -> str:
        """The URL of ``entry``'s repository for ``assignment``."""
        fields_ = dict(organisation=self.organisation, github=entry.github, student=entry.id,
                       assignment=assignment.name)
        if not any(f"{{{name}}}" in self.url + self.prefix for name in ("github", "student")):
            raise CourseError(f"c.Classroom.url {self.url!r} must name each student's repository "
                              "with {github} or {student}")
        try:
            return self.url.format(prefix=self.prefix.format(**fields_), **fields_)
        except (KeyError, IndexError, ValueError) as err:
            raise CourseError(f"c.Classroom.url or prefix has an unknown field: {err}") from None


@dataclass
class Collected:
    """What collecting one (student, assignment) did; one row of ``collection.json``."""

    student: str
    assignment: str
    status: Collection
    reason: str = ""
    repository: str = ""
    commit: str = ""
    committed: str = ""   # the commit's own date (ISO 8601, UTC)
    timestamp: str = ""   # what timestamp.txt says
    checked: str = ""     # when this collection looked (ISO 8601, UTC)


def settings(course: Course, url: str | None = None) -> Classroom:
    """The course's ``c.Classroom`` settings, with ``url`` overriding ``c.Classroom.url``."""
    classroom = Classroom(config=course.config)
    if url:
        classroom.url = url
    return classroom


def collect(course: Course, roster: list[RosterEntry], assignments: list[Assignment],
            classroom: Classroom) -> list[Collected]:
    """Collect every (roster student, assignment); one :class:`Collected` each, in that order."""
    env = git_environment(classroom.token_variable)
    previous = read_ledger(course)
    now = dt.datetime.now(dt.timezone.utc)
    rows, clones = [], {}
    with tempfile.TemporaryDirectory(prefix="classgrader-collect-") as scratch:
        for entry in roster:
            for assignment in assignments:
                row = Collected(entry.id, assignment.name, Collection.PROBLEM, checked=now.isoformat())
                row.repository = classroom.repository(entry, assignment)
                earlier = previous.get((entry.id, assignment.name))
                if not entry.github and "{github}" in classroom.url + classroom.prefix:
                    row.reason = "the roster has no GitHub user name for this student"
                    rows.append(row)
                    continue
                try:
                    repo = _clone_once(row.repository, Path(scratch), env, classroom.branch, clones)
                    _collect_one(course, repo, assignment, row, earlier)
                except (GitError, OSError) as err:
                    row.reason = f"cannot collect from {row.repository}: {err}"
                rows.append(row)
    write_ledger(course, rows)
    return rows


def _clone_once(url: str, scratch: Path, env: dict, branch: str, clones: dict) -> Path:
    """One clone per repository per run (a course-wide repository serves every assignment)."""
    if url not in clones:
        try:
            clones[url] = clone(url, scratch / str(len(clones)), env, branch)
        except GitError as err:
            clones[url] = err
    if isinstance(clones[url], GitError):
        raise clones[url]
    return clones[url]


def _collect_one(course: Course, repo: Path, assignment: Assignment, row: Collected,
                 earlier: Collected | None) -> None:
    """Fill ``row`` for one assignment of a cloned repository, copying the work if it changed."""
    if git("rev-parse", "--verify", "--quiet", "HEAD", cwd=repo, check=False).returncode != 0:
        row.reason = "the repository has no commits yet"
        return
    folder, problem = locate(repo, assignment)
    if problem:
        row.reason = problem
        row.commit = git("rev-parse", "HEAD", cwd=repo).stdout.strip()
        return
    relative = str(folder.relative_to(repo)) if folder != repo else "."
    row.commit, committed = git("log", "-1", "--format=%H %cI", "--", relative, cwd=repo).stdout.split()
    row.committed = dt.datetime.fromisoformat(committed).astimezone(dt.timezone.utc).isoformat()
    files, ignored = hand_in_files(course, folder)
    target = course.folder("submitted") / row.student / assignment.name
    if not target.exists() and untouched(course, assignment, folder):
        row.status, row.reason = Collection.NOT_STARTED, "the notebook is still the released one"
        return
    if same_files(files, target):
        stamp = target / TIMESTAMP_FILE
        row.status = Collection.UNCHANGED
        row.timestamp = stamp.read_text(encoding="utf-8").strip() if stamp.is_file() else ""
        return
    when, row.reason = _handed_in_at(row, earlier)
    row.timestamp = _write_submission(files, target, when)
    row.status = Collection.COLLECTED
    if ignored:
        row.reason = "; ".join(filter(None, [row.reason, "not copied: " + ", ".join(ignored[:10])]))


def _handed_in_at(row: Collected, earlier: Collected | None) -> tuple[dt.datetime, str]:
    """The commit's time, or the previous collection's if the commit claims to be older than that."""
    committed = dt.datetime.fromisoformat(row.committed)
    if earlier and earlier.commit and earlier.commit != row.commit and earlier.checked:
        seen_without = dt.datetime.fromisoformat(earlier.checked)
        if committed < seen_without:
            return seen_without, (f"commit dated {row.committed} was not there at the collection of "
                                  f"{earlier.checked}; counted as handed in then")
    return committed, ""


def locate(repo: Path, assignment: Assignment) -> tuple[Path | None, str]:
    """The folder holding the assignment in a student repository, or why there is none."""
    notebook = f"{assignment.notebook}.ipynb"
    nested, top = repo / assignment.name, repo / notebook
    if nested.is_dir() and not nested.is_symlink():
        folder = nested
    elif top.is_file() and not top.is_symlink():
        folder = repo
    else:
        found = sorted(str(p.relative_to(repo)) for p in repo.rglob("*.ipynb")
                       if not set(p.relative_to(repo).parts) & set(NEVER_COPIED))
        holds = ", ".join(found[:5]) + (" ..." if len(found) > 5 else "") if found else "no notebook at all"
        return None, (f"unexpected layout: expected {assignment.name}/{notebook} (or {notebook} at the top "
                      f"of the repository); the repository holds {holds}")
    if not any(p.is_file() and not p.is_symlink() for p in folder.glob("*.ipynb")):
        where = f"{assignment.name}/" if folder == nested else "the top of the repository"
        return None, f"no notebook in {where}: expected {notebook}"
    return folder, ""


def untouched(course: Course, assignment: Assignment, folder: Path) -> bool:
    """True when the notebook's cells are exactly the released ones (outputs and metadata aside)."""
    import nbformat

    def sources(path: Path) -> list[tuple[str, str]]:
        return [(c.cell_type, c.source) for c in nbformat.read(path, as_version=4).cells]

    try:
        return sources(folder / f"{assignment.notebook}.ipynb") == sources(course.release_notebook(assignment))
    except Exception:  # noqa: BLE001 - unreadable: not the release; the grader will say what is wrong
        return False


def hand_in_files(course: Course, folder: Path) -> tuple[dict[str, Path], list[str]]:
    """Relative path -> file to copy, and what was left out and why.

    nbgrader's own copy filter (``c.CourseDirectory.ignore``, ``include`` and ``max_file_size``)
    decides like for any hand-in; links and other special files are never copied.
    """
    from nbgrader.utils import ignore_patterns

    coursedir = course.coursedir()
    excluded = [*coursedir.ignore, *NEVER_COPIED]
    skip = ignore_patterns(exclude=excluded, include=coursedir.include, max_file_size=coursedir.max_file_size)
    files, ignored = {}, []
    for current, dirs, names in os.walk(folder):
        dropped = set(skip(current, dirs + names)) | {TIMESTAMP_FILE}
        for name in sorted(n for n in dirs + names if n not in dropped or not _matches(n, excluded)):
            path = Path(current) / name
            relative = str(path.relative_to(folder))
            if name in dropped:
                if name != TIMESTAMP_FILE:
                    ignored.append(f"{relative} (too large, or not in c.CourseDirectory.include)")
            elif path.is_symlink() or not (path.is_file() or path.is_dir()):
                ignored.append(f"{relative} (a link or special file)")
            elif path.is_file():
                files[relative] = path
        dirs[:] = sorted(d for d in dirs if d not in dropped and not Path(current, d).is_symlink())
    return files, ignored


def _matches(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def same_files(files: dict[str, Path], target: Path) -> bool:
    """True when ``target`` holds exactly these files (besides timestamp.txt), byte for byte."""
    if not target.is_dir():
        return False
    present = {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()} - {TIMESTAMP_FILE}
    if present != set(files):
        return False
    return all((target / relative).read_bytes() == path.read_bytes() for relative, path in files.items())


def _write_submission(files: dict[str, Path], target: Path, when: dt.datetime) -> str:
    """Replace ``target`` by the files and nbgrader's timestamp.txt; the old folder goes last."""
    from nbgrader.exchange.abc.exchange import Exchange

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    for relative, path in files.items():
        (staging / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, staging / relative)
    stamp = when.astimezone(dt.timezone.utc).strftime(Exchange.class_traits()["timestamp_format"].default_value)
    (staging / TIMESTAMP_FILE).write_text(stamp + "\n", encoding="utf-8")
    old = target.with_name(f".{target.name}-old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return stamp


def read_ledger(course: Course) -> dict[tuple[str, str], Collected]:
    """(student, assignment) -> the last collection's row, from ``collection.json``."""
    path = course.root / COLLECTION_FILE
    if not path.exists():
        return {}
    known = {f.name for f in fields(Collected)}
    try:
        rows = [Collected(**{k: v for k, v in r.items() if k in known}) for r in json.loads(path.read_text())]
    except (ValueError, TypeError) as err:
        raise CourseError(f"{path} is damaged ({err}); move it away to start the record afresh") from None
    for row in rows:
        row.status = Collection(row.status)
    return {(r.student, r.assignment): r for r in rows}


def write_ledger(course: Course, rows: list[Collected]) -> Path:
    """Record ``rows`` in ``collection.json``, keeping the rows of everybody else."""
    ledger = read_ledger(course)
    ledger.update({(r.student, r.assignment): r for r in rows})
    path = course.root / COLLECTION_FILE
    path.write_text(json.dumps([asdict(ledger[k]) for k in sorted(ledger)], indent=1) + "\n", encoding="utf-8")
    return path
