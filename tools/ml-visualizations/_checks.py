"""Input validation shared by the plotting functions.

Every check raises ``ValueError`` with a message that names the argument, says
what was expected and shows what was received. The checks run before any
matplotlib call, and they never modify their inputs (arrays are copied to
float64 when needed).
"""

from __future__ import annotations

import math
import numbers
import pathlib

import numpy as np


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_callable(func, name: str, signature: str):
    """Require ``func`` to be callable; ``signature`` is shown in the message."""
    if not callable(func):
        raise ValueError(
            f"{name} must be a function {signature}; got {type(func).__name__} "
            f"{_describe(func)}"
        )
    return func


def check_positive_number(value, name: str) -> float:
    """Require a positive, finite real number (not a bool) and return it as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a positive finite number; got {_describe(value)}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    return value


def check_learning_rate(value, name: str = "learning rate") -> float:
    """Require a positive finite learning rate."""
    return check_positive_number(value, name)


def check_finite_number(value, name: str) -> float:
    """Require a finite real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {_describe(value)}")
    return float(value)


def check_name(value, name: str) -> str:
    """Require a non-empty string, such as a variable name shown in a label ("w", "\\sigma")."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string; got {_describe(value)}")
    return value


def check_int(value, name: str, minimum: int) -> int:
    """Require an integer (not a bool) that is at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {_describe(value)}")
    return int(value)


def as_float_array(value, name: str) -> np.ndarray:
    """Convert to a float64 array, turning conversion errors into ``ValueError``."""
    try:
        arr = np.array(value, dtype=np.float64)  # always a copy: the input is never touched
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; got {_describe(value)} ({exc})") from None
    return arr


def check_vector(value, name: str, *, min_len: int = 1, positive: bool = False,
                 finite: bool = True) -> np.ndarray:
    """Require a 1-D numeric array with at least ``min_len`` entries."""
    arr = as_float_array(value, name)
    if arr.ndim != 1 or arr.size < min_len:
        raise ValueError(
            f"{name} must be a 1-D array with at least {min_len} value(s); got shape {arr.shape}"
        )
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (no nan/inf)")
    if positive and not np.all(arr > 0):
        raise ValueError(f"{name} must contain only positive numbers")
    return arr


def check_point(value, name: str = "start", dim: int = 2) -> np.ndarray:
    """Require a point with exactly ``dim`` finite coordinates."""
    arr = as_float_array(value, name)
    if arr.shape != (dim,):
        raise ValueError(
            f"{name} must have exactly {dim} coordinates (w, b); got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers; got {arr.tolist()}")
    return arr


def check_path(value, name: str = "path", *, min_len: int = 1,
               allow_nonfinite: bool = False) -> np.ndarray:
    """Require an ``(n, 2)`` array of (w, b) points with ``n >= min_len``.

    With ``allow_nonfinite`` the path is cut just before its first non-finite
    row (a diverging run that overflowed); the first row must still be finite.
    ``min_len`` applies to the path as given, before any cut.
    """
    arr = as_float_array(value, name)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < min_len:
        raise ValueError(
            f"{name} must be an array of shape (n, 2) with n >= {min_len} rows of (w, b); "
            f"got shape {arr.shape}"
        )
    finite_rows = np.all(np.isfinite(arr), axis=1)
    if not finite_rows.all():
        if not allow_nonfinite:
            raise ValueError(f"{name} contains nan or inf; cut it before it overflows")
        first_bad = int(np.argmin(finite_rows))
        if first_bad == 0:
            raise ValueError(f"the first point of {name} must be finite; got {arr[0].tolist()}")
        arr = arr[:first_bad]
    return arr


def check_range(value, name: str) -> tuple[float, float]:
    """Require ``(low, high)`` with finite ``low < high``."""
    arr = as_float_array(value, name)
    if arr.shape != (2,) or not np.all(np.isfinite(arr)) or not arr[0] < arr[1]:
        raise ValueError(f"{name} must be (low, high) with finite low < high; got {_describe(value)}")
    return float(arr[0]), float(arr[1])


def check_axes(ax, name: str = "ax"):
    """Require ``None`` or a matplotlib Axes."""
    from matplotlib.axes import Axes  # the class only; nothing is drawn

    if ax is not None and not isinstance(ax, Axes):
        raise ValueError(f"{name} must be a matplotlib Axes or None; got {type(ax).__name__}")
    return ax


def check_series_dict(value, name: str, *, positive_somewhere: bool = True) -> dict:
    """Require a non-empty dict ``label -> 1-D array`` (copied to float64).

    Non-finite entries are allowed (they are not drawn). With
    ``positive_somewhere`` each series needs at least one positive finite value,
    since it is drawn on a logarithmic axis.
    """
    if not isinstance(value, dict) or not value:
        raise ValueError(f"{name} must be a non-empty dict label -> 1-D array; got {_describe(value)}")
    out = {}
    for label, series in value.items():
        arr = as_float_array(series, f"{name}[{label!r}]")
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"{name}[{label!r}] must be a non-empty 1-D array; got shape {arr.shape}")
        if positive_somewhere and not np.any(np.isfinite(arr) & (arr > 0)):
            raise ValueError(
                f"{name}[{label!r}] has no positive finite value, so it cannot be drawn on a log axis"
            )
        out[str(label)] = arr
    return out


def check_out_path(value, suffixes) -> pathlib.Path:
    """Require an output path whose folder exists and whose suffix is allowed."""
    try:
        path = pathlib.Path(value)
    except TypeError:
        raise ValueError(f"output path must be a str or os.PathLike; got {_describe(value)}") from None
    if path.suffix.lower() not in suffixes:
        raise ValueError(
            f"output file {str(path)!r} must end with one of {', '.join(suffixes)}"
        )
    folder = path.parent
    if not folder.is_dir():
        raise ValueError(f"the folder {str(folder)!r} of the output file does not exist; create it first")
    return path


def evaluate_grid(func, W: np.ndarray, B: np.ndarray, name: str = "f") -> np.ndarray:
    """Evaluate ``func(W, B)`` on a grid and check the result's shape."""
    try:
        Z = np.array(func(W.copy(), B.copy()), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}(W, B) failed on arrays of shape {W.shape}: {exc}") from exc
    if Z.shape != W.shape:
        if Z.ndim != 0:
            raise ValueError(
                f"{name}(W, B) must return an array of shape {W.shape} (same as W and B); "
                f"got shape {Z.shape}"
            )
        Z = np.full(W.shape, Z)  # a constant function may return one number
    if not np.any(np.isfinite(Z)):
        raise ValueError(f"{name}(W, B) returned no finite value on the plotted grid")
    return Z


def evaluate_gradient(grad, W: np.ndarray, B: np.ndarray, name: str = "grad"):
    """Evaluate ``grad(W, B) -> (dW, dB)`` on a grid and check both shapes."""
    try:
        result = grad(W.copy(), B.copy())
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}(W, B) failed on arrays of shape {W.shape}: {exc}") from exc
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise ValueError(f"{name}(W, B) must return a pair (dW, dB); got {_describe(result)}")
    parts = []
    for label, part in zip(("dW", "dB"), result):
        try:
            arr = np.array(part, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name}(W, B) must return numeric {label}; got {_describe(part)}") from None
        if arr.shape != W.shape and arr.ndim != 0:
            raise ValueError(
                f"{name}(W, B) must return {label} of shape {W.shape}; got shape {arr.shape}"
            )
        parts.append(np.full(W.shape, arr) if arr.ndim == 0 else arr)
    return parts[0], parts[1]


def evaluate_gradient_pointwise(grad, W: np.ndarray, B: np.ndarray, name: str = "grad"):
    """Evaluate ``grad(w, b) -> [df/dw, df/db]`` at every grid point, one point at a time.

    ``grad`` only ever receives two Python floats, so a gradient written for a single point
    (``np.array([2 * w, 2 * b])``, ``float(...)`` inside) works. Returns ``(dW, dB)`` shaped like ``W``.
    """
    dW = np.empty(W.shape, dtype=np.float64)
    dB = np.empty(W.shape, dtype=np.float64)
    for index in np.ndindex(W.shape):
        w, b = float(W[index]), float(B[index])
        try:
            value = np.array(grad(w, b), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}(w, b) failed at the point ({w:g}, {b:g}): {exc}") from exc
        if value.shape != (2,):
            raise ValueError(f"{name}(w, b) must return two numbers [df/dw, df/db] for one point; "
                             f"got shape {value.shape} at ({w:g}, {b:g})")
        dW[index], dB[index] = value
    return dW, dB


def evaluate_1d(func, xs: np.ndarray, name: str = "f") -> np.ndarray:
    """Evaluate a one-variable function on ``xs``.

    Vectorised functions (``np.sin``) are called once with the array; scalar-only
    ones (``math.sin``) are called point by point.
    """
    try:
        ys = np.array(func(xs.copy()), dtype=np.float64)
    except (TypeError, ValueError):
        try:
            ys = np.array([func(float(x)) for x in xs], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}(x) failed: {exc}") from exc
    if ys.shape != xs.shape:
        if ys.ndim != 0:
            raise ValueError(
                f"{name}(x) must return one value per x, shape {xs.shape}; got shape {ys.shape}"
            )
        ys = np.full(xs.shape, ys)  # a constant function may return one number
    return ys
