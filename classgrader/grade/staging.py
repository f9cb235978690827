"""Where grading output is written before it counts, and how it is put in place.

nbgrader writes ``autograded/<student>/<assignment>`` (and ``feedback/...``) itself, first the
sanitized notebook, then, after execution, the graded one. Killed in between, it leaves a folder
that looks like a graded submission. So each grading worker gives nbgrader a private *stage*
instead (``.classgrader/staging/<id>/autograded``, set as the worker's
``CourseDirectory.autograded_directory`` for one call) and moves the finished folder into place
with a rename only once nbgrader has returned, so ``autograded/`` and ``feedback/`` only ever hold
complete output.

A stage is owned by the process that holds the lock on ``<id>.lock`` (an ``flock``, which the
kernel releases when the process dies, even by SIGKILL); :func:`sweep` removes every stage whose
owner is gone, so nothing a killed run staged survives the next run.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from pathlib import Path

#: The grader's own working state, next to the gradebook (git-ignored).
WORK = ".classgrader"
#: Per-worker stages, below :data:`WORK`.
STAGING = f"{WORK}/staging"


def fsync_folder(folder: Path) -> None:
    """Make a rename or an unlink inside ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the whole new one, never
    a part: a temporary file in the same folder, flushed to disk, then renamed over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    fsync_folder(path.parent)


def leftover_temporaries(folder: Path) -> list[Path]:
    """Temporary files of :func:`atomic_write` that a killed writer left below ``folder``."""
    return sorted(folder.rglob(".*.tmp")) if folder.is_dir() else []


class Stage:
    """One worker's private folder for nbgrader's output, locked for as long as the worker lives.

    Parameters
    ----------
    root : Path
        The course folder (the stage must be on the same file system as ``autograded/``, so that
        moving a folder into place is one rename).
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        base = self.root / STAGING
        base.mkdir(parents=True, exist_ok=True)
        # The lock file appears already locked (locked under another name, then renamed), and
        # before the folder: a stage folder without its lock file is an orphan (see sweep). A
        # sweep running at that very moment may take the new lock file away: then try again.
        for _attempt in range(10):
            self.id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
            locking = base / f".{self.id}.locking"
            self._lock = os.open(locking, os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.rename(locking, base / f"{self.id}.lock")
                break
            except (BlockingIOError, FileNotFoundError):
                os.close(self._lock)
        else:
            raise OSError(f"cannot create a grading stage in {base}")
        self.folder = base / self.id
        self.folder.mkdir()

    def step(self, kind: str) -> str:
        """The stage's stand-in for nbgrader's ``autograded`` or ``feedback`` folder, relative to
        the course (for ``CourseDirectory.<kind>_directory``)."""
        return str((self.folder / kind).relative_to(self.root))

    def clear(self) -> None:
        """Forget whatever is staged (after it was moved into place, or after a failure)."""
        for child in self.folder.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    def install(self, staged: Path, target: Path) -> None:
        """Move the finished folder ``staged`` to ``target``, replacing what was there.

        Each step is a rename: ``target`` holds the old complete folder, then nothing, then the
        new complete folder; never a part of either.
        """
        target.parent.mkdir(parents=True, exist_ok=True)
        replaced = None
        if target.exists() or target.is_symlink():
            replaced = self.folder / f"replaced-{uuid.uuid4().hex}"
            os.rename(target, replaced)
        os.rename(staged, target)
        fsync_folder(target.parent)
        if replaced is not None:
            shutil.rmtree(replaced, ignore_errors=True)

    def close(self) -> None:
        """Remove the stage and release its lock."""
        shutil.rmtree(self.folder, ignore_errors=True)
        (self.folder.parent / f"{self.id}.lock").unlink(missing_ok=True)
        os.close(self._lock)


def sweep_temporaries(root: Path) -> list[Path]:
    """Remove what a killed :func:`atomic_write` left in the course folder and in the grader's
    work folder (records, status); the files removed. Only a grading run writes there, and it
    sweeps before its workers start and after they end."""
    stale = [*Path(root).glob(".*.tmp"), *leftover_temporaries(Path(root) / WORK)]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def sweep(root: Path) -> list[str]:
    """Remove every stage whose owner is gone (killed or finished), and the temporary files of
    killed writers; the ids of the stages removed."""
    sweep_temporaries(root)
    base = Path(root) / STAGING
    if not base.is_dir():
        return []
    removed = []
    for lock_path in sorted([*base.glob("*.lock"), *base.glob(".*.locking")]):
        try:
            fd = os.open(lock_path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue            # its worker is alive
        try:
            stage = lock_path.name.removeprefix(".").split(".")[0]
            shutil.rmtree(base / stage, ignore_errors=True)
            lock_path.unlink(missing_ok=True)
            removed.append(stage)
        finally:
            os.close(fd)
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        if not (base / f"{folder.name}.lock").exists():   # its lock was removed by a killed sweep
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed


def leftovers(root: Path) -> list[Path]:
    """Everything below the staging folder (empty after a run has finished and swept)."""
    base = Path(root) / STAGING
    return sorted(base.iterdir()) if base.is_dir() else []
