"""Reference solutions for assignment 2: partial derivatives, gradients, Jacobians and Hessians.

Every public function here has the name and signature the notebook asks for. The functions only
use numpy and each other, because the course's tests paste them into a notebook's solution cells
(the "solutions-package submission" that must score full marks).

Conventions: a point ``x`` is a 1-D array (or list) of ``n`` numbers, integers allowed; results are
float64; the caller's ``x`` is never modified, not even temporarily, because every perturbation is
made on a fresh float64 copy.
"""
import numpy as np


def partial_derivative(f, x, i, h=1e-5):
    """Central-difference estimate of the partial derivative of f along coordinate i.

    Formula: ``(f(x + h e_i) - f(x - h e_i)) / (2 h)``, where ``e_i`` is the i-th unit vector;
    only coordinate ``i`` moves, every other input is held fixed. Error O(h^2).

    Parameters
    ----------
    f : callable
        Maps a 1-D float64 array of shape (n,) to a scalar.
    x : array_like, shape (n,)
        The point; a float or integer array, or a list. Not modified.
    i : int
        Which coordinate to vary, ``0 <= i < n``.
    h : float, optional
        The step.

    Returns
    -------
    float
        The estimate of ``df/dx_i`` at ``x``.
    """
    x_plus = np.array(x, dtype=np.float64)  # np.array copies, so the caller's x is safe
    x_minus = x_plus.copy()
    x_plus[i] += h
    x_minus[i] -= h
    return float((f(x_plus) - f(x_minus)) / (2 * h))


def numerical_gradient(f, x, h=1e-5):
    """Central-difference estimate of the gradient of a scalar function f at x.

    Formula: component ``i`` is ``(f(x + h e_i) - f(x - h e_i)) / (2 h)``, one coordinate at a
    time (see :func:`partial_derivative`).

    Parameters
    ----------
    f : callable
        Maps a 1-D float64 array of shape (n,) to a scalar.
    x : array_like, shape (n,)
        The point; a float or integer array, or a list. Not modified.
    h : float, optional
        The step.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
        The estimated gradient, same shape as ``x``.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros(x.shape, dtype=np.float64)
    for i in range(x.size):
        grad[i] = partial_derivative(f, x, i, h)
    return grad


def grad_bowl(w, b):
    """Gradient of the loss bowl ``f(w, b) = w^2 + b^2``.

    Formula: ``(df/dw, df/db) = (2 w, 2 b)``.

    Parameters
    ----------
    w, b : int or float
        The two inputs (the notebook promises numbers; equally shaped arrays happen to work
        elementwise too, giving shape ``(2,) + w.shape``).

    Returns
    -------
    numpy.ndarray of float64, shape (2,)
        ``np.array([2 w, 2 b])``, float64 also for integer inputs.
    """
    return np.array([2 * w, 2 * b], dtype=np.float64)


def grad_f_xy(x, y):
    """Gradient of ``f(x, y) = x^2 + 3 x y + y^2``.

    Formula: ``(df/dx, df/dy) = (2 x + 3 y, 3 x + 2 y)``.

    Parameters
    ----------
    x, y : int or float
        The two inputs.

    Returns
    -------
    numpy.ndarray of float64, shape (2,)
        ``np.array([2 x + 3 y, 3 x + 2 y])``, float64 also for integer inputs.
    """
    return np.array([2 * x + 3 * y, 3 * x + 2 * y], dtype=np.float64)


def relative_error(a, b):
    """Relative distance between two gradients.

    Formula: ``||a - b|| / (||a|| + ||b||)`` with the Euclidean norm; 0.0 when both are zero
    (they agree perfectly). The result lies in [0, 1] and does not change when both vectors are
    scaled by the same factor.

    Parameters
    ----------
    a, b : numpy.ndarray, shape (n,)
        For example an analytic and a numerical gradient; integers allowed. Not modified.

    Returns
    -------
    float
        The relative error (the float 0.0, not the integer 0, for two zero vectors).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / denominator)


def gradient_check(f, grad_f, x, h=1e-5):
    """Compare an analytic gradient with a numerical one.

    Formula: ``relative_error(grad_f(x), numerical_gradient(f, x, h))``. Below about 1e-7 the
    analytic gradient is almost certainly right; above 1e-2 it is almost certainly wrong.

    Parameters
    ----------
    f : callable
        Maps a 1-D array of shape (n,) to a scalar.
    grad_f : callable
        The analytic gradient, mapping the same array to an array of shape (n,).
    x : array_like, shape (n,)
        The point at which to compare; an array or a list, integers allowed. Not modified.
    h : float, optional
        Step of the numerical gradient.

    Returns
    -------
    float
        The relative error between the two gradients.
    """
    return relative_error(grad_f(x), numerical_gradient(f, x, h))


def steepest_ascent_direction(grad):
    """Unit vector pointing where the function increases fastest.

    Formula: ``grad / ||grad||``; the zero vector when ``grad`` is zero (a flat spot has no
    uphill direction).

    Parameters
    ----------
    grad : numpy.ndarray, shape (n,)
        A gradient; integers allowed. Not modified.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
        A new array: the unit vector along ``grad``, or zeros.
    """
    grad = np.asarray(grad, dtype=np.float64)
    norm = np.linalg.norm(grad)
    if norm == 0:
        return np.zeros(grad.shape, dtype=np.float64)
    return grad / norm


def directional_derivative(grad, v):
    """Rate of change of a function along the direction v.

    Formula: ``grad . v / ||v||``: the gradient dotted with the unit vector along ``v``, so only
    the direction of ``v`` matters, not its length.

    Parameters
    ----------
    grad : numpy.ndarray, shape (n,)
        The gradient at the point; integers allowed. Not modified.
    v : numpy.ndarray, shape (n,)
        The direction, any non-zero length; integers allowed. Not modified.

    Returns
    -------
    float
        The directional derivative.

    Raises
    ------
    ValueError
        If ``v`` is the zero vector (it has no direction).
    """
    grad = np.asarray(grad, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    norm = np.linalg.norm(v)
    if norm == 0:
        raise ValueError("the direction v is the zero vector, which points nowhere")
    return float(np.dot(grad, v) / norm)


def numerical_jacobian(f, x, h=1e-5):
    """Central-difference estimate of the Jacobian of a vector-valued function.

    Formula: column ``j`` is ``(f(x + h e_j) - f(x - h e_j)) / (2 h)``, so entry ``(i, j)`` is
    ``df_i/dx_j`` and row ``i`` is the gradient of output ``i``.

    Parameters
    ----------
    f : callable
        Maps a 1-D float64 array of shape (n,) to an array of shape (m,).
    x : array_like, shape (n,)
        The point; a float or integer array, or a list. Not modified.
    h : float, optional
        The step.

    Returns
    -------
    numpy.ndarray of float64, shape (m, n)
        The estimated Jacobian.
    """
    x = np.array(x, dtype=np.float64)
    columns = []
    for j in range(x.size):
        x_plus = x.copy()
        x_minus = x.copy()
        x_plus[j] += h
        x_minus[j] -= h
        f_plus = np.asarray(f(x_plus), dtype=np.float64)
        f_minus = np.asarray(f(x_minus), dtype=np.float64)
        columns.append((f_plus - f_minus) / (2 * h))
    return np.stack(columns, axis=1)


def numerical_hessian(f, x, h=1e-4):
    """Finite-difference estimate of the Hessian (matrix of second partial derivatives).

    Formula: entry ``(i, j)`` is
    ``[f(x + h e_i + h e_j) - f(x + h e_i - h e_j) - f(x - h e_i + h e_j) + f(x - h e_i - h e_j)] / (4 h^2)``,
    computed for ``i <= j`` and mirrored, so the result is exactly symmetric. The step is larger
    than for first derivatives because round-off is divided by ``h^2``.

    Parameters
    ----------
    f : callable
        Maps a 1-D float64 array of shape (n,) to a scalar.
    x : array_like, shape (n,)
        The point; a float or integer array, or a list. Not modified.
    h : float, optional
        The step.

    Returns
    -------
    numpy.ndarray of float64, shape (n, n)
        The estimated Hessian, symmetric.
    """
    x = np.array(x, dtype=np.float64)
    n = x.size
    hessian = np.zeros((n, n), dtype=np.float64)
    for i in range(n):
        for j in range(i, n):
            values = []
            for step_i, step_j in [(h, h), (h, -h), (-h, h), (-h, -h)]:
                point = x.copy()
                point[i] += step_i
                point[j] += step_j
                values.append(f(point))
            hessian[i, j] = (values[0] - values[1] - values[2] + values[3]) / (4 * h * h)
            hessian[j, i] = hessian[i, j]
    return hessian


def quadratic_model(value, grad, hessian, delta):
    """Second-order Taylor model of f(x + delta) from f(x), its gradient and its Hessian.

    Formula: ``value + grad . delta + 1/2 delta^T hessian delta``. It is exact when f is a
    quadratic function; otherwise its error shrinks like ``|delta|^3`` (the first-order model's
    like ``|delta|^2``). Along a unit direction u the quadratic term is ``1/2 t^2 u^T H u``: the
    curvature of f in that direction.

    Parameters
    ----------
    value : float
        ``f(x)``.
    grad : array_like, shape (n,)
        ``grad f(x)``; integers allowed. Not modified.
    hessian : array_like, shape (n, n)
        The Hessian of f at x; integers allowed. Not modified.
    delta : array_like, shape (n,)
        The step; integers allowed. Not modified.

    Returns
    -------
    float
        The model's prediction of ``f(x + delta)``.
    """
    grad = np.asarray(grad, dtype=np.float64)
    hessian = np.asarray(hessian, dtype=np.float64)
    delta = np.asarray(delta, dtype=np.float64)
    return float(value + grad @ delta + 0.5 * delta @ hessian @ delta)
