"""Reference solutions for assignment 4: gradient descent.

Every public function here has the name and signature the notebook asks for. The functions only
use numpy and each other, because the course's tests paste them into a notebook's solution cells
(the "solutions-package submission" that must score full marks).
"""
import numpy as np


def gradient_descent(grad_f, x0, learning_rate, num_iterations):
    """Run plain gradient descent and return every point it visits.

    Update rule (all coordinates at once): ``x_{k+1} = x_k - learning_rate * grad_f(x_k)``.

    Parameters
    ----------
    grad_f : callable
        ``grad_f(x)`` takes a float64 array of shape (d,) and returns the gradient, an array of
        shape (d,).
    x0 : array_like, shape (d,), or a scalar
        The starting point; a scalar counts as a point with d = 1. Integers and lists are fine.
        It is never modified.
    learning_rate : float
        The step size eta > 0.
    num_iterations : int
        How many steps to take (>= 0).

    Returns
    -------
    numpy.ndarray of float64, shape (num_iterations + 1, d)
        ``path[0]`` is ``x0`` and ``path[k + 1] = path[k] - learning_rate * grad_f(path[k])``.
    """
    x = np.atleast_1d(np.array(x0, dtype=np.float64))  # a float copy: x0 itself is never touched
    path = np.empty((num_iterations + 1, x.size), dtype=np.float64)
    path[0] = x
    for k in range(num_iterations):
        gradient = np.asarray(grad_f(path[k].copy()), dtype=np.float64)
        path[k + 1] = path[k] - learning_rate * gradient
    return path


def gradient_descent_until(grad_f, x0, learning_rate, tol=1e-6, max_iterations=10000):
    """Gradient descent that stops once the gradient is small.

    Before each step the rule ``||grad_f(x)|| < tol`` (Euclidean norm) is tested; if it holds the
    descent stops, otherwise it takes the step ``x <- x - learning_rate * grad_f(x)``. At most
    ``max_iterations`` steps are taken.

    Parameters
    ----------
    grad_f : callable
        ``grad_f(x)`` for x of shape (d,), returning an array of shape (d,).
    x0 : array_like, shape (d,)
        The starting point (never modified).
    learning_rate : float
        The step size.
    tol : float, optional
        Stop when the gradient norm is below this.
    max_iterations : int, optional
        The largest number of steps.

    Returns
    -------
    x : numpy.ndarray of float64, shape (d,)
        Where the descent stopped.
    iterations : int
        The number of steps taken (0 if x0 already satisfies the rule, ``max_iterations`` if the
        rule never held).
    """
    x = np.atleast_1d(np.array(x0, dtype=np.float64))
    for k in range(max_iterations):
        gradient = np.asarray(grad_f(x.copy()), dtype=np.float64)
        if np.linalg.norm(gradient) < tol:
            return x, k
        x = x - learning_rate * gradient
    return x, max_iterations


def max_stable_learning_rate(A):
    """The largest learning rate for which gradient descent on ``1/2 x^T A x`` converges.

    With gradient ``A x`` each eigen-direction of A is multiplied by ``1 - eta * lambda_i`` per step,
    so descent converges from every start exactly when ``0 < eta < 2 / lambda_max``.

    Parameters
    ----------
    A : array_like, shape (d, d)
        A symmetric positive definite matrix (lists and integers are fine).

    Returns
    -------
    float
        ``2 / lambda_max``, with lambda_max the largest eigenvalue of A.

    Raises
    ------
    ValueError
        If A is not square, not symmetric, or not positive definite (some eigenvalue <= 0).
    """
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(f"A must be a square matrix, got shape {A.shape}")
    if not np.allclose(A, A.T):
        raise ValueError("A must be symmetric")
    eigenvalues = np.linalg.eigvalsh(A)
    if eigenvalues[0] <= 0:
        raise ValueError(f"A must be positive definite; its smallest eigenvalue is {eigenvalues[0]:g}")
    return float(2.0 / eigenvalues[-1])


def clip_by_norm(g, max_norm):
    """Scale a gradient down to length ``max_norm`` if it is longer; otherwise leave it alone.

    Formula: ``g * (max_norm / ||g||)`` when ``||g|| > max_norm``, else ``g``. The direction is kept;
    only the length is limited.

    Parameters
    ----------
    g : array_like, shape (d,)
        The gradient (never modified).
    max_norm : float
        The largest allowed Euclidean norm, > 0.

    Returns
    -------
    numpy.ndarray of float64, shape (d,)
        A new array: the clipped gradient, or an unchanged copy of g.
    """
    g = np.array(g, dtype=np.float64)  # always a copy
    norm = np.linalg.norm(g)
    if norm > max_norm:
        g = g * (max_norm / norm)
    return g


def descent_endpoints(starts, learning_rate, num_iterations):
    """Where gradient descent on ``f(x) = x^4 - 3 x^2 + x`` ends from each starting point.

    Uses :func:`gradient_descent` with the derivative ``f'(x) = 4 x^3 - 6 x + 1``. The function has
    a global minimum near -1.3008, a local maximum near 0.1699 and a local minimum near 1.1309, so
    the end point depends on which side of the maximum a start lies.

    Parameters
    ----------
    starts : array_like of float, shape (m,)
        The starting points.
    learning_rate : float
    num_iterations : int

    Returns
    -------
    numpy.ndarray of float64, shape (m,)
        The last point of the descent from each start.
    """
    def derivative(x):
        return 4 * x**3 - 6 * x + 1

    return np.array([gradient_descent(derivative, start, learning_rate, num_iterations)[-1, 0]
                     for start in np.asarray(starts, dtype=np.float64)], dtype=np.float64)


def saddle_escape(start, learning_rate, num_iterations):
    """The last point of gradient descent on the saddle ``f(x, y) = x^2 - y^2``.

    Uses :func:`gradient_descent` with the gradient ``(2 x, -2 y)``. Per step x is multiplied by
    ``1 - 2 eta`` (it shrinks) and y by ``1 + 2 eta`` (it grows), so a start with y = 0 slides into
    the saddle point (0, 0) while any y != 0, however small, eventually escapes.

    Parameters
    ----------
    start : array_like, shape (2,)
        The starting point (x, y).
    learning_rate : float
    num_iterations : int

    Returns
    -------
    numpy.ndarray of float64, shape (2,)
        The point reached after ``num_iterations`` steps.
    """
    def gradient(p):
        return np.array([2 * p[0], -2 * p[1]], dtype=np.float64)

    return gradient_descent(gradient, start, learning_rate, num_iterations)[-1]


def newton_step(grad_f, hess_f, x):
    """One step of Newton's method: ``x - H^{-1} g`` with ``g = grad_f(x)`` and ``H = hess_f(x)``.

    The step minimises the second-order Taylor model ``L(x) + g . d + 1/2 d^T H d`` of the loss, so
    on a quadratic bowl (where the model is exact) it lands on the minimum. The linear system
    ``H d = g`` is solved with ``np.linalg.solve`` rather than by inverting H.

    Parameters
    ----------
    grad_f : callable
        ``grad_f(x)`` for x of shape (d,), returning the gradient, shape (d,).
    hess_f : callable
        ``hess_f(x)`` for x of shape (d,), returning the Hessian, shape (d, d).
    x : array_like, shape (d,)
        The current point (lists and integers are fine); never modified.

    Returns
    -------
    numpy.ndarray of float64, shape (d,)
        A new array: the point after the step.
    """
    x = np.array(x, dtype=np.float64)
    gradient = np.asarray(grad_f(x.copy()), dtype=np.float64)
    hessian = np.asarray(hess_f(x.copy()), dtype=np.float64).reshape(x.size, x.size)
    return x - np.linalg.solve(hessian, gradient)


def newton_iterations(grad_f, hess_f, x0, tol=1e-10, max_iterations=100):
    """Newton's method with the stopping rule of :func:`gradient_descent_until`.

    Before each step the rule ``||grad_f(x)|| < tol`` is tested; if it holds the method stops,
    otherwise it takes the step :func:`newton_step`. At most ``max_iterations`` steps are taken.

    Parameters
    ----------
    grad_f, hess_f : callable
        As for :func:`newton_step`.
    x0 : array_like, shape (d,)
        The starting point (never modified).
    tol : float, optional
        Stop when the gradient norm is below this.
    max_iterations : int, optional
        The largest number of steps.

    Returns
    -------
    x : numpy.ndarray of float64, shape (d,)
        Where the method stopped.
    iterations : int
        The number of Newton steps taken.
    """
    x = np.array(x0, dtype=np.float64)
    for k in range(max_iterations):
        if np.linalg.norm(np.asarray(grad_f(x.copy()), dtype=np.float64)) < tol:
            return x, k
        x = newton_step(grad_f, hess_f, x)
    return x, max_iterations
