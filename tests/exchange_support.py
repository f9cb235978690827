"""Helpers for the exchange tests: students as a JupyterHub gives them, and commands run as them.

On a JupyterHub whose single-user servers run in containers (DockerSpawner, KubeSpawner and so
Zero to JupyterHub), every student is the OS user ``jovyan`` with a home of their own, and
``JUPYTERHUB_USER`` says who they are: nbgrader's ``get_username`` reads it exactly when the OS
user is ``jovyan``. The tests do the same: each student's commands run as the OS user ``jovyan``
(created with ``useradd`` when missing, which needs root) with their own ``HOME``, working folder
and ``JUPYTERHUB_USER``, and their own ``~/.jupyter/nbgrader_config.py`` naming the course and the
exchange, as a hub's administrator would write it. The instructor's commands run as the user
running the tests, from the course folder, in the course's environment; the students' run in
the student kit's environment (tests/student_env.py), as they would on a hub.
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ACCOUNT = "jovyan"
BINDIR = str(Path(sys.executable).parent)


def ensure_student_account() -> str | None:
    """Make sure the OS user ``jovyan`` exists; the reason it cannot be used, or None."""
    if os.geteuid() != 0:
        return f"running commands as the students' OS user {ACCOUNT!r} needs root"
    try:
        pwd.getpwnam(ACCOUNT)
        return None
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if not useradd:
        return f"there is no OS user {ACCOUNT!r} and no useradd to create one"
    done = subprocess.run([useradd, "--system", "--user-group", "--no-create-home",
                           "--shell", "/usr/sbin/nologin", ACCOUNT],
                          capture_output=True, text=True)
    try:
        pwd.getpwnam(ACCOUNT)
        return None
    except KeyError:
        return f"useradd {ACCOUNT} failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"


def require(*checks) -> None:
    """Run each ``check()`` (None, or the reason a tool is unavailable); skip, printing why."""
    import pytest

    for check in checks:
        reason = check()
        if reason:
            print(f"SKIPPED: {reason}")
            pytest.skip(reason)


def shared_folder(prefix: str) -> Path:
    """A fresh temporary folder that other OS users may traverse (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def student_config(course_id: str, exchange: Path) -> str:
    """A student's ``nbgrader_config.py``: the course and the exchange, nothing else."""
    return (f"c = get_config()  # noqa: F821\n"
            f"c.CourseDirectory.course_id = {course_id!r}\n"
            f"c.Exchange.root = {str(exchange)!r}\n")


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


@dataclass
class Student:
    """One student: a name (``JUPYTERHUB_USER``), a home and a working folder of their own."""

    name: str
    home: Path
    work: Path
    python: Path       # the student environment's interpreter (the kit's, see student_env)

    @classmethod
    def create(cls, base: Path, name: str, course_id: str, exchange: Path, python: Path) -> "Student":
        home = base / name
        work = home / "work"
        (home / ".jupyter").mkdir(parents=True)
        work.mkdir()
        (home / ".jupyter" / "nbgrader_config.py").write_text(student_config(course_id, exchange))
        account = pwd.getpwnam(ACCOUNT)
        _chown_tree(home, account.pw_uid, account.pw_gid)
        home.chmod(0o700)
        return cls(name, home, work, python)

    def env(self) -> dict[str, str]:
        """The environment of the student's server: nothing of the instructor's leaks in."""
        return {
            "PATH": str(self.python.parent) + os.pathsep + "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "USER": ACCOUNT, "LOGNAME": ACCOUNT,
            "JUPYTERHUB_USER": self.name,
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def popen_kwargs(self) -> dict:
        account = pwd.getpwnam(ACCOUNT)
        return dict(user=account.pw_uid, group=account.pw_gid, extra_groups=[], env=self.env(),
                    cwd=self.work)

    def nbgrader(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        """``nbgrader ARGS`` in the student's working folder, as the student."""
        done = subprocess.run([str(self.python), "-m", "nbgrader", *args], capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              **self.popen_kwargs())
        if check and done.returncode != 0:
            raise AssertionError(f"{self.name}: nbgrader {' '.join(args)} exited {done.returncode}:\n"
                                 f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
        return done


def instructor(course_root: Path, *command: str, check: bool = True,
               timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m COMMAND`` (nbgrader or the course's grader) in the course folder."""
    env = {**os.environ, "PATH": BINDIR + os.pathsep + os.environ.get("PATH", "")}
    done = subprocess.run([sys.executable, "-m", *command], cwd=course_root, env=env,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise AssertionError(f"instructor: {' '.join(command)} exited {done.returncode}:\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done
