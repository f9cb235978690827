"""A hand-in is only what was released: which handed-in files the grader uses, and which it ignores.

A student's folder may hold anything: a ``classgrader/`` package that would shadow the grader's,
a ``numpy/`` or ``sitecustomize.py`` that would shadow a library, a symbolic link to the
gradebook. Only the files the assignment ships (those of ``release/<assignment>/``, and the
files of ``source/<assignment>/`` that nbgrader itself copies over the hand-in) are placed where
the kernel runs; everything else is listed (:func:`unreleased`), removed from the kernel's folder
(:class:`classgrader.grade.preprocessors.KeepReleasedFiles`, in the sanitize step of
``nbgrader autograde``) and reported in the grading status.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from nbgrader.utils import find_all_files


def shipped(*folders: str | os.PathLike, ignore: list[str] = ()) -> set[str]:
    """Relative paths of the files in the given assignment folders (its release and its source)."""
    found = set()
    for folder in folders:
        if os.path.isdir(folder):
            found.update(os.path.relpath(path, folder) for path in find_all_files(str(folder), list(ignore)))
    return found


def unreleased(handed_in: str | os.PathLike, allowed: set[str]) -> list[str]:
    """What was handed in besides the ``allowed`` files, as relative paths.

    A folder that holds nothing allowed is listed once, as ``name/``; symbolic links are always
    listed (they are never followed).
    """
    extra = []
    for root, dirs, files in os.walk(handed_in):
        relative_root = os.path.relpath(root, handed_in)
        for name in sorted(dirs):
            relative = os.path.normpath(os.path.join(relative_root, name))
            if os.path.islink(os.path.join(root, name)) or not any(a.startswith(relative + os.sep) for a in allowed):
                extra.append(relative + os.sep)
                dirs.remove(name)
        for name in sorted(files):
            relative = os.path.normpath(os.path.join(relative_root, name))
            if os.path.islink(os.path.join(root, name)) or relative not in allowed:
                extra.append(relative)
    return sorted(extra)


def remove_from(folder: str | os.PathLike, relative_paths: list[str]) -> list[str]:
    """Remove those paths from ``folder`` (links themselves, never what they point to); the ones removed."""
    removed = []
    for relative in relative_paths:
        target = Path(folder, relative)
        if not (target.exists() or target.is_symlink()):
            continue
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()
        removed.append(relative)
    return removed
