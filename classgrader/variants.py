"""Per-student variants of the hidden tests: the seed each check draws its inputs from.

A hidden check that declares its inputs as Hypothesis strategies (:func:`classgrader.checks.for_all`)
draws them from a seed made of a course secret, the student, the assignment and the item
(``grade_id``): an HMAC-SHA256, so a student who knows their own inputs learns nothing about the
secret or anyone else's inputs, and a regrade of the same hand-in draws the same inputs again.

The judge sets the seed for each test cell it runs (:func:`drawing`); outside the judge (an
instructor running a source notebook in Jupyter, or a unit test) checks use :data:`INSTRUCTOR_SEED`.
The secret never lives in the repository: graders set it in the environment variable
:data:`SECRET_VARIABLE`, or keep it in a file named by ``c.JudgedExecute.variant_secret_file`` in
``nbgrader_config.py``. ``make demo``, ``selfcheck`` and the tests use :data:`DEMO_SECRET`, which is
public. A grading record keeps the secret's :func:`fingerprint`, never the secret.
"""
from __future__ import annotations

import contextlib
import contextvars
import hashlib
import hmac
import os
from pathlib import Path
from typing import Iterator

#: The environment variable that holds the course secret when grading for real.
SECRET_VARIABLE = "CLASSGRADER_SECRET"
#: The secret of the demo class, the self-check and the tests (public, so never for real grades).
DEMO_SECRET = "calculus-for-ml demo secret: not for real grades"
#: The seed outside the judge, so that a source notebook run by hand is reproducible.
INSTRUCTOR_SEED = 20240901
#: Notebook metadata (under ``classgrader``) where the judge records what a grading drew from.
RECORD_KEY = "variants"


class MissingSecret(RuntimeError):
    """No course secret where grading needs one."""


_SEED: contextvars.ContextVar["int | None"] = contextvars.ContextVar("variant_seed", default=None)
_DRAWN: contextvars.ContextVar["list[str] | None"] = contextvars.ContextVar("variant_drawn", default=None)


def variant_seed(secret: str, student: str, assignment: str, item: str) -> int:
    """The seed of one student's inputs for one item: HMAC-SHA256(secret, student|assignment|item).

    Raises
    ------
    MissingSecret
        For an empty secret (every student would get inputs anyone can compute).
    """
    if not secret:
        raise MissingSecret(f"no course secret: set {SECRET_VARIABLE} (see the README, 'Variants')")
    message = "\x1f".join((student, assignment, item)).encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


def fingerprint(secret: str) -> str:
    """First 8 hex digits of SHA-256(secret): names a secret in a record without revealing it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:8]


def find_secret(secret_file: str = "") -> tuple[str, str]:
    """The course secret and where it came from: ``SECRET_VARIABLE``, else ``secret_file``.

    Returns ``("", why)`` when there is none. A named file that cannot be read, or is empty, is an
    error (a typo in the configuration must not silently grade with no secret).

    Raises
    ------
    MissingSecret
        When ``secret_file`` is given but missing, unreadable or empty.
    """
    from_env = os.environ.get(SECRET_VARIABLE, "")
    if from_env:
        return from_env, f"the environment variable {SECRET_VARIABLE}"
    if secret_file:
        path = Path(secret_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise MissingSecret(f"the course secret file {path} (c.JudgedExecute.variant_secret_file) "
                                f"cannot be read: {err.strerror}") from None
        if not text:
            raise MissingSecret(f"the course secret file {path} (c.JudgedExecute.variant_secret_file) is empty")
        return text, f"the file {path}"
    return "", (f"no course secret: neither {SECRET_VARIABLE} nor c.JudgedExecute.variant_secret_file "
                "is set")


def current_seed() -> int:
    """The seed of the check running now: the student's in the judge, else :data:`INSTRUCTOR_SEED`."""
    seed = _SEED.get()
    return INSTRUCTOR_SEED if seed is None else seed


@contextlib.contextmanager
def drawing(seed: int, drawn: list[str] | None = None) -> Iterator[None]:
    """Run the block's checks with ``seed``; each input they draw is described into ``drawn``."""
    token, drawn_token = _SEED.set(seed), _DRAWN.set(drawn)
    try:
        yield
    finally:
        _SEED.reset(token)
        _DRAWN.reset(drawn_token)


def note_drawn(description: str) -> None:
    """Keep the description of one drawn input, when the caller of :func:`drawing` asked for them."""
    drawn = _DRAWN.get()
    if drawn is not None:
        drawn.append(description)


@contextlib.contextmanager
def seed_only_draws() -> Iterator[None]:
    """Make Hypothesis's draws depend on the seed alone, in any process.

    Since 6.131 Hypothesis also draws, now and then, literals it finds in the source of the
    "local" modules loaded in the process (here ``classgrader`` and ``solutions``), and caches them
    in a ``.hypothesis`` folder of the working directory. Which modules are loaded differs between
    a grading worker, plain ``nbgrader autograde``, a replay and an instructor's kernel, so the
    same student could draw other inputs at a regrade; and literals of the reference solutions
    have no business among the inputs sent to a student's kernel. Hypothesis has no setting for it
    (its issue #4627), so its collector is switched off here while checks draw, and its cache of
    constants per kind of draw is emptied before and after.
    """
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
        collector, cache = providers._get_local_constants, providers.CONSTANTS_CACHE.cache
    except (ImportError, AttributeError):   # a Hypothesis without the feature: nothing to do
        yield
        return
    nothing = Constants()
    providers._get_local_constants = lambda: nothing
    cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = collector
        cache.clear()
