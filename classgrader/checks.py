"""Checks that the hidden tests of every assignment share.

The hidden test cells import this module (``from classgrader.checks import ...``) instead of
copying comparison code into each notebook. Every check raises ``AssertionError`` with a message
written for the student: what was expected, what came back, by how much they differ, and, where
the returned value matches a catalogued wrong answer, which mistake it looks like.

Design rules
------------
* Types are checked exactly (``type(x) is np.ndarray``) before any comparison, so an object whose
  ``__eq__`` always answers True gains nothing.
* Shape and dtype are checked before values, so "wrong shape" is reported as such instead of as a
  confusing broadcasting error.
* Tolerances are explicit arguments at every call site, next to the reason for them.

Where the checks run
--------------------
When a notebook is graded, the judge (:mod:`classgrader.grade.judge`) runs the hidden tests in the
trusted grading process, and these checks with them: the student's functions are stand-ins that
call into the sandboxed kernel, and what they return arrives as plain data. When an instructor runs
a source notebook in Jupyter, the same checks run in the kernel on the objects themselves. Every
function here works the same way in both places.
"""
from __future__ import annotations

import contextlib
import copy
import time
import warnings
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from classgrader.grade.judge.remote import is_remote, type_name
from classgrader.grade.judge.session import active as active_session
from classgrader.grade.judge.session import swapped
from classgrader.model.status import DIAGNOSIS_PREFIX

__all__ = [
    "result_array",
    "result_float",
    "result_float64",
    "result_dict",
    "call_unchanged",
    "reference",
    "central_gradient",
    "assert_close",
    "assert_unchanged",
    "expect_raises",
    "call_or_explain",
    "no_warnings",
    "substitute",
    "call_each",
    "fold",
    "for_all",
    "student_rng",
    "describe_inputs",
    "type_name",
]


def _fmt(value: Any) -> str:
    """Short printable form of a number or array for a failure message."""
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=6, threshold=12, edgeitems=3, suppress=False):
            return np.array2string(value, separator=", ")
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.9g}"
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def result_array(value: Any, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Check that a function returned a float64 numpy array of the given shape.

    Parameters
    ----------
    value : object
        What the student's function returned.
    name : str
        How to call it in a message, e.g. ``"numerical_gradient(f, [1, 2])"``.
    shape : tuple of int, optional
        The required shape.

    Returns
    -------
    numpy.ndarray
        ``value`` itself, once it has passed.
    """
    if type(value) is not np.ndarray:
        hint = ""
        if isinstance(value, (list, tuple)):
            hint = " Convert it with np.array(...) before returning."
        raise AssertionError(
            f"{name} should return a numpy array, but it returned a {type_name(value)}.{hint}"
        )
    if shape is not None and value.shape != tuple(shape):
        hint = ""
        if value.size == int(np.prod(shape)):
            hint = " The numbers may be right but arranged differently (a column vector or a transpose?)."
        raise AssertionError(f"{name} should have shape {tuple(shape)}, but it has shape {value.shape}.{hint}")
    if value.dtype != np.float64:
        hint = ""
        if np.issubdtype(value.dtype, np.integer):
            hint = (" An integer array silently truncates every fraction you store in it: create "
                    "the result with dtype=float (or np.zeros(..., dtype=float)).")
        raise AssertionError(f"{name} should have dtype float64, but it has dtype {value.dtype}.{hint}")
    return value


def result_float(value: Any, name: str) -> float:
    """Check that a function returned one real number (Python or numpy, not an array of several).

    Accepts ``float``, ``int`` and numpy real scalars, and a 0-d or one-element numpy array of
    real numbers; rejects booleans, strings, lists and look-alike objects.

    Returns
    -------
    float
        The value as a Python float.
    """
    if isinstance(value, (bool, np.bool_)):
        raise AssertionError(f"{name} should return a number, but it returned a boolean ({value}).")
    if type(value) in (float, int) or type(value) in (np.float64, np.float32, np.float16, np.longdouble):
        return float(value)
    if isinstance(value, np.integer):
        return float(value)
    if type(value) is np.ndarray and value.size == 1 and np.issubdtype(value.dtype, np.number) \
            and not np.iscomplexobj(value):
        return float(value.reshape(()))
    raise AssertionError(
        f"{name} should return a single number (a float), but it returned a "
        f"{type_name(value)}: {_fmt(value)}"
    )


def assert_close(
    actual: Any,
    expected: Any,
    name: str,
    *,
    rtol: float,
    atol: float,
    mistakes: Mapping[str, Any] | None = None,
    advice: str = "",
) -> None:
    """Check that ``actual`` equals ``expected`` within ``|a - e| <= atol + rtol * |e|``.

    Call :func:`result_array` or :func:`result_float` on ``actual`` first: this function compares
    values only.

    Parameters
    ----------
    actual, expected : float or numpy.ndarray
        The student's value and the independently computed reference.
    name : str
        What is being compared, for the message.
    rtol, atol : float
        Relative and absolute tolerance (numpy's ``isclose`` rule).
    mistakes : mapping of str to value, optional
        Known wrong answers: message -> the value that mistake produces. When ``actual`` is close
        to one of them (same tolerances), the message names that mistake.
    advice : str, optional
        A sentence added to every failure, e.g. the formula that was expected.
    """
    actual_arr = np.asarray(actual, dtype=np.float64)
    expected_arr = np.asarray(expected, dtype=np.float64)
    if actual_arr.shape != expected_arr.shape:
        raise AssertionError(f"{name}: expected shape {expected_arr.shape}, got {actual_arr.shape}.")
    if np.allclose(actual_arr, expected_arr, rtol=rtol, atol=atol, equal_nan=False):
        return
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(actual_arr - expected_arr)
    worst = float(np.nanmax(diff)) if diff.size and not np.all(np.isnan(diff)) else float("nan")
    lines = [
        f"{name} is wrong.",
        f"  expected: {_fmt(expected if isinstance(expected, np.ndarray) else float(expected_arr) if expected_arr.ndim == 0 else expected_arr)}",
        f"  got:      {_fmt(actual if isinstance(actual, np.ndarray) else float(actual_arr) if actual_arr.ndim == 0 else actual_arr)}",
        f"  largest difference {worst:.3g} (allowed: {atol:g} + {rtol:g} * |expected|)",
    ]
    if np.any(np.isnan(actual_arr)) and not np.any(np.isnan(expected_arr)):
        lines.append("  Your result contains NaN: look for 0/0, inf - inf or an overflow.")
    diagnoses = []
    for message, wrong in (mistakes or {}).items():
        wrong_arr = np.asarray(wrong, dtype=np.float64)
        if wrong_arr.shape == actual_arr.shape and np.allclose(actual_arr, wrong_arr, rtol=rtol, atol=atol):
            lines.append(f"  {DIAGNOSIS_PREFIX}{message}")
            diagnoses.append(message)
    if advice:
        lines.append(f"  Hint: {advice}")
    error = AssertionError("\n".join(lines))
    error.diagnoses = tuple(diagnoses)   # what the class report counts (see model.status.DIAGNOSES_KEY)
    raise error


def assert_unchanged(before: Any, after: Any, name: str) -> None:
    """Check that a function left its input exactly as it was.

    A change of rounding size gets its own explanation: it is what shifting the caller's array and
    shifting it back (``x += h`` then ``x -= h``) leaves behind.

    Parameters
    ----------
    before : numpy.ndarray or list
        A deep copy of the input taken before the call.
    after : numpy.ndarray or list
        The same object the function received, looked at after the call.
    """
    same_type = type(before) is type(after)
    b = np.asarray(before)
    a = np.asarray(after)
    if same_type and a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b):
        return
    if same_type and a.shape == b.shape and a.dtype == b.dtype and np.issubdtype(a.dtype, np.floating):
        change = float(np.max(np.abs(a - b)))
        if change < 1e-9:
            raise AssertionError(
                f"{name} changed its input by a rounding-sized amount (largest change {change:.1e}): "
                "it wrote into the caller's array (directly, or through a view: x[:] and "
                "np.asarray(x, dtype=float) of a float64 array do not copy), and stepping back with "
                "arithmetic (x += h, then x -= h) does not always give the original number back in "
                "floating point. Work on a copy: np.array(x, dtype=float) makes a copy.")
    raise AssertionError(
        f"{name} changed its input: before the call it was {_fmt(before)}, after the call it "
        f"is {_fmt(after)}. Work on a copy (x = np.array(x, dtype=float) makes one) and leave "
        f"the caller's array alone; if you perturb an entry, restore it."
    )


def result_dict(value: Any, keys: tuple[str, ...], name: str) -> dict:
    """Check that a function returned a dict holding (at least) ``keys``; returns it."""
    if not isinstance(value, dict):
        raise AssertionError(f"{name} should return a dict, got {type_name(value)}")
    missing = set(keys) - set(value)
    if missing:
        raise AssertionError(f"{name}: the dict is missing the key(s) {sorted(missing)}")
    return value


def call_unchanged(func: Callable[..., Any], *args: Any, name: str, arg_names: tuple[str, ...] = (),
                   ignore_errors: bool = False, **kwargs: Any) -> Any:
    """Call ``func(*args, **kwargs)`` and check with :func:`assert_unchanged` that it left every
    array, list and dict argument exactly as it was; returns what it returned.

    ``arg_names`` name the positional arguments in the message (``"f (argument W1)"``). With
    ``ignore_errors`` an exception of the call is ignored (it returns None): for a cell that grades
    only what happens to the inputs, while whether such inputs work is graded elsewhere.
    """
    saved = [copy.deepcopy(a) if isinstance(a, (np.ndarray, list, dict)) else None for a in args]
    try:
        result = func(*args, **kwargs)
    except Exception:  # noqa: BLE001 - see ignore_errors
        if not ignore_errors:
            raise
        result = None
    for i, (before, after) in enumerate(zip(saved, args)):
        if isinstance(before, dict):
            for key in before:
                assert_unchanged(before[key], after.get(key), f"{name} ({arg_names[i] if i < len(arg_names) else i}[{key!r}])")
        elif before is not None:
            which = arg_names[i] if i < len(arg_names) else f"argument {i + 1}"
            assert_unchanged(before, after, f"{name} (argument {which})")
    return result


def result_float64(value: Any, name: str, advice: str = "") -> float:
    """Check that a function returned one float64 number: a Python float, np.float64 or a 0-d array.

    Stricter than :func:`result_float`: an int, a bool, another dtype or a one-element array of
    shape (1,) breaks a "returns a float" promise. ``advice`` is added to the message.

    Returns
    -------
    float
        The value as a Python float.
    """
    if type(value) is np.ndarray and value.ndim != 0:
        raise AssertionError(f"{name} should be a single number (or a 0-d array), but it has shape {value.shape}.")
    kind = type(value) if type(value) is not np.ndarray else value.dtype.type
    if kind not in (float, np.float64):
        raise AssertionError(f"{name} returned {_fmt(value)} of type {type_name(value)}"
                             f"{'' if type(value) is not np.ndarray else f' (dtype {value.dtype})'}; "
                             "the result must be a float64 number." + (f" {advice}" if advice else ""))
    return result_float(value, name)


def central_gradient(f: Callable[[np.ndarray], float], x: Any, h: float = 1e-6) -> np.ndarray:
    """The gradient of a scalar function by central differences: an oracle that shares no formula
    with the code under test (as in CS231n's gradient check).

    Entry ``pos`` of the result is ``(f(x + h e_pos) - f(x - h e_pos)) / (2 h)``; ``x`` may have any
    shape and is never changed (each side gets its own float copy).

    Returns
    -------
    numpy.ndarray
        float64, shaped like ``x``. Its error is about ``h^2 |f'''| + 1e-16 |f| / h``: with the
        default h = 1e-6 and values of order 1, near 1e-10.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros(x.shape)
    for pos in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[pos] += h
        minus[pos] -= h
        grad[pos] = (f(plus) - f(minus)) / (2 * h)
    return grad


def reference(module: str):
    """The reference module ``solutions.<module>``: correct functions to swap in, or to compare with.

    Under the judge it runs in the grading process; the student's kernel cannot read it.
    """
    from classgrader.model.course import import_solutions

    return import_solutions(f"solutions.{module}")


def call_or_explain(compute: Callable[[], Any], name: str, explanation: str,
                    errors: tuple[type[BaseException], ...] = (TypeError,)) -> Any:
    """``compute()``; an exception of one of ``errors`` fails the check with ``explanation``.

    For a call that crashes for a reason the course can name (a number on the left of ``+`` calls
    the reflected method, which is missing): ``"{name} raised TypeError (...). {explanation}"``.
    """
    try:
        return compute()
    except errors as err:
        kind = getattr(err, "student_type", "") or type(err).__name__
        raise AssertionError(f"{name} raised {kind} ({err}). {explanation}") from None


def expect_raises(exc_type: type[BaseException], func: Callable[..., Any], *args: Any,
                  name: str, why: str = "", **kwargs: Any) -> BaseException:
    """Check that ``func(*args, **kwargs)`` raises ``exc_type``.

    Returns
    -------
    BaseException
        The exception that was raised, for further checks.
    """
    try:
        result = func(*args, **kwargs)
    except exc_type as err:
        return err
    except Exception as err:  # noqa: BLE001 - reported to the student
        raise AssertionError(
            f"{name} should raise {exc_type.__name__}{' (' + why + ')' if why else ''}, "
            f"but it raised {getattr(err, 'student_type', '') or type(err).__name__}: {err}"
        ) from None
    raise AssertionError(
        f"{name} should raise {exc_type.__name__}{' (' + why + ')' if why else ''}, "
        f"but it returned {_fmt(result)}."
    )


def no_warnings(func: Callable[..., Any], *args: Any, name: str, advice: str = "", **kwargs: Any) -> Any:
    """Call ``func`` and fail if it emits any warning (for example numpy's overflow warning).

    Overflow, invalid values and division by zero warn during the call whatever the notebook set
    with ``np.seterr``; underflow to zero (``exp(-1000) == 0.0``) is harmless and ignored. ``advice``
    is added to the message (e.g. how to avoid dividing by zero).

    Returns
    -------
    object
        Whatever ``func`` returned.
    """
    session = active_session()
    watching = session.watch_warnings() if session is not None else contextlib.nullcontext([])
    with watching as watched, warnings.catch_warnings(record=True) as recorded, \
            np.errstate(all="warn", under="ignore"):
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    caught = [f"{category}: {message}" for category, message in watched] + \
        [f"{w.category.__name__}: {w.message}" for w in recorded]
    if caught:
        raise AssertionError(
            f"{name} emitted a warning: {caught[0]}. "
            + (advice or "A numerically stable version produces no overflow or invalid-value warnings.")
        )
    return result


@contextlib.contextmanager
def substitute(namespace: dict[str, Any], **replacements: Any) -> Iterator[None]:
    """Temporarily replace names in a namespace (the notebook's ``globals()``).

    A hidden test uses this to grade one skill on its own: while ``tangent_line`` is tested,
    ``central_difference`` is replaced by a correct version, so a mistake in one function costs
    the points of that function only. Under the judge the names are replaced in the student's
    kernel too, by functions that call back into the judge, so the correct version never enters it.
    """
    session = getattr(namespace, "judge_session", None)
    with session.substitute(namespace, replacements) if session else swapped(namespace, replacements):
        yield


def call_each(function: Callable[..., Any], rows: list) -> list:
    """``[function(*row) for row in rows]``, in one round trip when ``function`` is the student's.

    For building many objects of the student's at once (a long chain of ``Value`` nodes, say).
    """
    if is_remote(function):
        return function._session.call_each(function, rows)
    return [function(*row) for row in rows]


def fold(function: Callable[[Any, Any], Any], start: Any, items: list) -> Any:
    """``functools.reduce(function, items, start)``, run where ``start`` lives.

    ``fold(operator.mul, x, ws)`` multiplies a chain of the student's ``Value`` objects in one
    round trip under the judge.
    """
    if is_remote(start):
        return start._session.fold(function, start, items)
    for item in items:
        start = function(start, item)
    return start


def describe_inputs(case: tuple, names: tuple[str, ...] = ()) -> str:
    """``x = array([0, 1]) (integer), h = 0.5``: the inputs of one case, for a message."""
    parts = []
    for index, value in enumerate(case):
        name = names[index] if index < len(names) else f"argument {index + 1}"
        if type(value) is np.ndarray:
            with np.printoptions(precision=17, threshold=20, edgeitems=4):
                shown = f"array({np.array2string(value, separator=', ')})"
            if np.issubdtype(value.dtype, np.integer):
                shown += " (integer)"
            elif value.dtype != np.float64:
                shown += f" (dtype {value.dtype})"
        else:
            shown = repr(value)
        parts.append(f"{name} = {shown}")
    return ", ".join(parts)


def _failure_kind(error: BaseException) -> tuple:
    """What makes two failures the same: the exception's type and the diagnoses its message names."""
    kind = getattr(error, "student_type", "") or type(error).__name__
    lines = str(error).splitlines()
    return (kind, tuple(line.strip() for line in lines if DIAGNOSIS_PREFIX in line))


def for_all(check: Callable[..., None], inputs: Any, *, examples: Any = (), names: tuple[str, ...] = (),
            max_examples: int = 10, shrink_seconds: float = 10.0, shrink_tries: int = 200) -> None:
    """Run ``check(*case)`` on inputs drawn for this student, then on the fixed ``examples``.

    ``inputs`` is a Hypothesis strategy of argument tuples (``st.tuples(...)``); ``examples`` are
    the edge cases every student gets; ``names`` name the arguments in messages. The draws come
    from the seed of the check running now (:func:`classgrader.variants.current_seed`: the
    student's in the judge, :data:`~classgrader.variants.INSTRUCTOR_SEED` in an instructor's
    kernel), without Hypothesis's example database, so one seed always draws the same inputs.

    When a drawn input fails, Hypothesis shrinks it to a smallest input that fails *with the same
    diagnosis* (a smaller input failing for another reason would teach another lesson), in at
    most ``shrink_tries`` tries, so that a regrade reports the same input, and never longer than
    ``shrink_seconds`` (under the judge every try is a round trip to the kernel). The
    AssertionError then names that input before the check's own message (which says what was
    expected and what came back)::

        fails for x = 1.0, h = 0.5:
        central_difference(x**3, 1.0, h=0.5) is wrong. ...

    A failing edge case is reported the same way. An exception the student's code raised is
    re-raised as it is (for the smallest input found): the judge reports where it was raised.
    """
    from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings

    from classgrader.variants import current_seed, note_drawn, seed_only_draws

    state: dict[str, Any] = {"kind": None, "until": None, "last": None, "tries": 0}

    def attempt(case: tuple) -> None:
        if state["until"] is not None:
            state["tries"] += 1
            if state["tries"] > shrink_tries or time.monotonic() > state["until"]:
                return   # the shrinking budget is spent: the smallest failure so far stands
        if state["kind"] is None:
            note_drawn(describe_inputs(case, names))
        try:
            check(*case)
        except Exception as error:  # noqa: BLE001 - compared below, then re-raised for Hypothesis
            kind = _failure_kind(error)
            if state["kind"] is None:
                state["kind"], state["until"] = kind, time.monotonic() + shrink_seconds
            elif kind != state["kind"]:
                return   # another failure: shrink toward the first one only
            state["last"] = (case, error)
            raise

    run = settings(database=None, max_examples=max_examples, deadline=None, derandomize=False,
                   report_multiple_bugs=False, print_blob=False, verbosity=Verbosity.quiet,
                   suppress_health_check=list(HealthCheck), phases=(Phase.generate, Phase.shrink),
                   )(seed(current_seed())(given(inputs)(attempt)))
    try:
        with seed_only_draws():
            run()
    except Exception:  # noqa: BLE001 - the smallest failure recorded is what is reported
        if state["last"] is None:
            raise
        _report(*state["last"], names, "")
    for case in examples:
        case = tuple(case)
        note_drawn(describe_inputs(case, names) + " (fixed)")
        try:
            check(*case)
        except Exception as error:  # noqa: BLE001 - reported with its input
            _report(case, error, names, " (an edge case every student gets)")


def student_rng() -> np.random.Generator:
    """A numpy generator seeded with the seed of the check running now (see :func:`for_all`).

    For a check that builds its random inputs with numpy: each student gets their own, a regrade
    the same ones. Unlike :func:`for_all` there is no shrinking, so the feedback shows the failing
    input as the check's own message describes it.
    """
    from classgrader.variants import current_seed

    return np.random.default_rng(current_seed())


def _report(case: tuple, error: Exception, names: tuple[str, ...], note: str):
    """Fail with ``error``, its message preceded by the input it failed for."""
    where = f"fails for {describe_inputs(case, names)}{note}"
    if isinstance(error, AssertionError):
        reported = AssertionError(f"{where}:\n{error}")
        reported.diagnoses = getattr(error, "diagnoses", ())
        raise reported from None
    raise error   # the student's own exception: the judge reports where their code raised it
