"""Real git through subprocess, with credentials that stay on the course's side.

A token is never put on a command line, into a URL or into any git configuration file: when the
environment variable named by ``c.Classroom.token_variable`` (``CLASSROOM_TOKEN`` by default) is
set, git gets a credential helper through ``GIT_CONFIG_*`` environment variables (git >= 2.31)
that answers with ``$CLASSROOM_TOKEN`` read from the environment at the moment git asks. Without
the variable, git's own credential helpers (``git config credential.helper``) answer as usual.
Either way git never prompts (``GIT_TERMINAL_PROMPT=0``), so a missing credential fails at once.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from classgrader.model.course import CourseError

#: The user name GitHub expects with an access token over HTTPS.
TOKEN_USER = "x-access-token"
#: Seconds one git command may take (a clone of a student repository is small).
GIT_TIMEOUT = 300


class GitError(CourseError):
    """A git command failed; the message is git's own last lines."""


def git_environment(token_variable: str) -> dict[str, str]:
    """The environment for git: no prompts, and the token (if set) through a credential helper."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    if env.get(token_variable):
        # An empty helper first clears any helper configured elsewhere, so the token is the only
        # answer and no helper of the machine stores it. The helper prints only for "get".
        helper = (f'!f() {{ test "$1" = get || exit 0; echo username={TOKEN_USER}; '
                  f'echo "password=${token_variable}"; }}; f')
        env.update(GIT_CONFIG_COUNT="2", GIT_CONFIG_KEY_0="credential.helper", GIT_CONFIG_VALUE_0="",
                   GIT_CONFIG_KEY_1="credential.helper", GIT_CONFIG_VALUE_1=helper)
    return env


def git(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    """Run ``git args...``; raise :class:`GitError` with git's message when ``check`` and it fails."""
    try:
        completed = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                                   timeout=GIT_TIMEOUT, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise GitError("git is not installed (it is needed to collect and return work)") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than {GIT_TIMEOUT} s") from None
    if check and completed.returncode != 0:
        lines = [line for line in completed.stderr.strip().splitlines() if line.strip()]
        raise GitError("; ".join(lines[-2:]) or f"git {args[0]} failed with exit code {completed.returncode}")
    return completed


def clone(url: str, into: Path, env: dict[str, str], branch: str = "") -> Path:
    """A clone of one branch of ``url`` with its history (for commit times) but, where the server
    allows it (GitHub does), without the contents of old versions (``--filter=blob:none``)."""
    args = ["clone", "--quiet", "--no-tags", "--single-branch", "--filter=blob:none"] \
        + (["--branch", branch] if branch else [])
    git(*args, url, str(into), env=env)
    return into
