"""The student kit and the environment its README sets up, built once per test process.

The kit is built with the course's own builder into a fresh temporary folder (outside the
repository), and its README's first command (``python3 -m venv .venv && .venv/bin/python -m pip
install -r requirements.txt``) is run in it as written, with the PATH of a fresh machine, so
``python3`` is the system's interpreter and nothing of the course's environment is visible. The
exchange tests run their students in this same environment: it is what a student has, and the
system interpreter (unlike one under root's home) can be run by the students' OS user.

Everything lives in one folder that other users may read, removed when the process ends.
"""
from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from classgrader.model.course import REPO_ROOT, Course
from classgrader.release.kit import build_kit

FRESH_PATH = "/usr/local/bin:/usr/bin:/bin"
#: pip output that means the registry could not be reached (then the tests skip, saying so)
OFFLINE = re.compile(r"NewConnectionError|Temporary failure in name resolution|No matching distribution"
                     r"|Could not find a version that satisfies")


@dataclass(frozen=True)
class StudentEnv:
    kit: Path              # the kit as built
    python: Path           # the kit's .venv/bin/python
    commands: tuple[str, str]   # the README's two commands
    setup_seconds: float

    @property
    def bindir(self) -> Path:
        return self.python.parent


def readme_commands(readme: Path) -> tuple[str, ...]:
    """The commands of the README's first ``bash`` block."""
    match = re.search(r"```bash\n(.*?)```", readme.read_text(encoding="utf-8"), re.DOTALL)
    if not match:
        raise AssertionError(f"{readme} has no ```bash block")
    return tuple(line.strip() for line in match.group(1).splitlines()
                 if line.strip() and not line.strip().startswith("#"))


def fresh_env(home: Path) -> dict[str, str]:
    """The environment of a fresh machine: the system PATH, an empty home, the user's pip cache."""
    env = {"PATH": FRESH_PATH, "HOME": str(home), "LANG": "C.UTF-8"}
    cache = Path.home() / ".cache" / "pip"
    if cache.is_dir():
        env["PIP_CACHE_DIR"] = str(cache)   # only saves downloads; the registry is still asked
    return env


@functools.cache
def student_env() -> StudentEnv | str:
    """The built kit with its environment, or the reason it cannot be had here."""
    import time

    python3 = shutil.which("python3", path=FRESH_PATH)
    if not python3:
        return f"no python3 on {FRESH_PATH} to set the kit up with, as a student would"
    version = subprocess.run([python3, "-c", "import sys; print(sys.version_info >= (3, 11))"],
                             capture_output=True, text=True)
    if version.stdout.strip() != "True":
        return f"{python3} is older than Python 3.11, which the kit asks for"
    base = Path(tempfile.mkdtemp(prefix="student-kit-"))
    base.chmod(0o755)
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    kit = build_kit(Course(REPO_ROOT), base / "calculus-for-ml")
    commands = readme_commands(kit / "README.md")
    if len(commands) != 2:
        raise AssertionError(f"the kit's README should have two commands, has {commands}")
    home = base / "home"
    home.mkdir()
    started = time.perf_counter()
    done = subprocess.run(["bash", "-c", commands[0]], cwd=kit, env=fresh_env(home),
                          capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    output = done.stdout + done.stderr
    if done.returncode != 0:
        if OFFLINE.search(output):
            return f"the package registry could not be reached to set up the kit:\n{output[-1500:]}"
        raise AssertionError(f"the kit's set-up command failed (exit {done.returncode}):\n"
                             f"$ {commands[0]}\n{output[-4000:]}")
    print(f"kit environment set up in {seconds:.0f} s", file=sys.stderr)
    return StudentEnv(kit, kit / ".venv" / "bin" / "python", commands, seconds)


def require_student_env() -> StudentEnv:
    """The student environment, or skip (printing why)."""
    import pytest

    env = student_env()
    if isinstance(env, str):
        print(f"SKIPPED: {env}")
        pytest.skip(env)
    return env


def student_jupyter_env(home: Path, bindir: Path) -> dict[str, str]:
    """Environment for the kit's own Jupyter tools: its bin first, a private home."""
    env = fresh_env(home)
    env["PATH"] = f"{bindir}{os.pathsep}{env['PATH']}"
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    return env
