"""Reference solutions for assignment 1: derivatives by finite differences.

Every public function here has the name and signature the notebook asks for. The functions only
use numpy and each other, because the course's tests paste them into a notebook's solution cells
(the "solutions-package submission" that must score full marks).
"""
import numpy as np


def forward_difference(f, x, h=1e-5):
    """Forward difference approximation of f'(x).

    Formula: ``(f(x + h) - f(x)) / h``, error O(h).

    Parameters
    ----------
    f : callable
        A function of one real variable, vectorised over numpy arrays.
    x : int, float or numpy.ndarray
        Where to differentiate; an array (of any shape, integer and 0-d arrays included) is
        handled elementwise. Never modified: ``x + h`` is a new array.
    h : float, optional
        The step.

    Returns
    -------
    numpy.float64 or numpy.ndarray of float64
        The approximate derivative: a scalar for a number or a 0-d array, else an array of x's
        shape.
    """
    x = np.asarray(x, dtype=np.float64)
    result = (f(x + h) - f(x)) / h
    return np.asarray(result, dtype=np.float64)[()]


def backward_difference(f, x, h=1e-5):
    """Backward difference approximation of f'(x).

    Formula: ``(f(x) - f(x - h)) / h``, error O(h). Arguments and result as in
    :func:`forward_difference`.
    """
    x = np.asarray(x, dtype=np.float64)
    result = (f(x) - f(x - h)) / h
    return np.asarray(result, dtype=np.float64)[()]


def central_difference(f, x, h=1e-5):
    """Central difference approximation of f'(x).

    Formula: ``(f(x + h) - f(x - h)) / (2 h)``, error O(h^2). Arguments and result as in
    :func:`forward_difference`.
    """
    x = np.asarray(x, dtype=np.float64)
    result = (f(x + h) - f(x - h)) / (2 * h)
    return np.asarray(result, dtype=np.float64)[()]


def tangent_line(f, x0, h=1e-5):
    """Slope and intercept of the tangent to f at x0.

    The tangent is ``y = f(x0) + f'(x0) (x - x0)``, so its slope is ``f'(x0)`` (estimated with
    :func:`central_difference`) and its intercept is ``f(x0) - slope * x0``.

    Parameters
    ----------
    f : callable
        A function of one real variable.
    x0 : int or float
        The point of tangency.
    h : float, optional
        Step for the central difference (passed on to it).

    Returns
    -------
    tuple of (float, float)
        ``(slope, intercept)``.
    """
    slope = float(central_difference(f, x0, h))
    intercept = float(f(x0)) - slope * x0
    return slope, intercept


def derivative_error(f, df, x, hs, method="central"):
    """Absolute error of a finite difference for each step in ``hs``.

    Formula: ``|D_h f(x) - f'(x)|`` with ``D_h`` the chosen difference quotient.

    Parameters
    ----------
    f, df : callable
        The function and its exact derivative.
    x : float
        Where to differentiate.
    hs : list or numpy.ndarray of float, shape (k,)
        The steps to try. Not modified.
    method : {"forward", "backward", "central"}
        Which difference quotient; anything else raises ValueError with a message that names
        the three allowed methods.

    Returns
    -------
    numpy.ndarray of float64, shape (k,)
        The absolute errors, one per step.
    """
    methods = {
        "forward": forward_difference,
        "backward": backward_difference,
        "central": central_difference,
    }
    if method not in methods:
        raise ValueError(f"method must be 'forward', 'backward' or 'central', not {method!r}")
    approximate = methods[method]
    exact = df(x)
    return np.array([abs(approximate(f, x, h) - exact) for h in hs], dtype=np.float64)


def best_step(f, df, x, hs, method="central"):
    """The step from ``hs`` whose finite difference is closest to the exact derivative.

    Returns
    -------
    float
        The element of ``hs`` with the smallest :func:`derivative_error`.
    """
    errors = derivative_error(f, df, x, hs, method)
    return float(np.asarray(hs, dtype=np.float64)[np.argmin(errors)])


def convergence_order(hs, errors):
    """Least-squares slope of log(error) against log(h).

    If ``error ~ C h^p`` then ``log error = log C + p log h``, so the slope is the order ``p``:
    about 1 for forward differences and 2 for central ones, while truncation error dominates.

    Parameters
    ----------
    hs, errors : array_like of float, shape (k,), k >= 2
        Steps and the matching positive errors.

    Returns
    -------
    float
        The fitted slope ``p``.
    """
    log_h = np.log(np.asarray(hs, dtype=np.float64))
    log_e = np.log(np.asarray(errors, dtype=np.float64))
    slope, _intercept = np.polyfit(log_h, log_e, 1)
    return float(slope)
