"""Reference solutions for assignment 5: linear regression trained by gradient descent.

Every public function here has the name and signature the notebook asks for. The functions only
use numpy and each other, because the course's tests paste them into a notebook's solution cells
(the "solutions-package submission" that must score full marks).

Convention used throughout (stated once in the notebook and used everywhere)::

    L(w, b) = (1/n) * sum_i (x_i . w + b - y_i)^2

with gradient ``dL/dw = (2/n) X^T r`` and ``dL/db = (2/n) sum_i r_i``, where ``r = X w + b - y``
is the vector of residuals.
"""
import numpy as np


def predict(X, w, b):
    """Predictions of the linear model ``y_hat = X w + b``.

    Parameters
    ----------
    X : array_like, shape (n, d)
        One example per row, one feature per column (float or int).
    w : array_like, shape (d,)
        The weights.
    b : float
        The intercept (bias), added to every prediction.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
        ``y_hat[i] = X[i] . w + b``.
    """
    X = np.asarray(X, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    return X @ w + float(b)


def mse_loss(y_pred, y_true):
    """Mean squared error ``(1/n) sum_i (y_pred[i] - y_true[i])^2``.

    Parameters
    ----------
    y_pred, y_true : array_like, shape (n,)
        Predictions and targets; they must have exactly the same shape.

    Returns
    -------
    float
        The mean of the squared differences.

    Raises
    ------
    ValueError
        If the shapes differ. Without this check a (n, 1) column against a (n,) vector would
        broadcast silently to an (n, n) matrix of differences and give a meaningless number.
    """
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.float64)
    if y_pred.shape != y_true.shape:
        raise ValueError(
            f"y_pred has shape {y_pred.shape} but y_true has shape {y_true.shape}; "
            "they must match (reshape a column with .ravel())"
        )
    return float(np.mean((y_pred - y_true) ** 2))


def mse_gradients(X, y, w, b):
    """Gradient of ``L(w, b) = (1/n) sum_i (x_i . w + b - y_i)^2``.

    With residuals ``r = X w + b - y`` the chain rule gives ``dL/dw = (2/n) X^T r`` and
    ``dL/db = (2/n) sum_i r_i``.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Features.
    y : array_like, shape (n,)
        Targets.
    w : array_like, shape (d,)
        Weights at which to evaluate the gradient.
    b : float
        Intercept at which to evaluate the gradient.

    Returns
    -------
    dw : numpy.ndarray of float64, shape (d,)
        ``dL/dw``.
    db : float
        ``dL/db``.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = X.shape[0]
    residuals = X @ np.asarray(w, dtype=np.float64) + b - y
    dw = (2.0 / n) * (X.T @ residuals)
    db = (2.0 / n) * float(np.sum(residuals))
    return dw, db


def standardize(X):
    """Scale every column to mean 0 and standard deviation 1.

    ``X_scaled[:, j] = (X[:, j] - mean[j]) / std[j]`` with the population standard deviation
    (``np.std`` with its default ``ddof=0``). A constant column has standard deviation 0; it gets
    ``std = 1`` instead, so its scaled column is all zeros and nothing is divided by zero.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Features (float or int). Not modified.

    Returns
    -------
    X_scaled : numpy.ndarray of float64, shape (n, d)
        The standardized features (a new array).
    mean : numpy.ndarray of float64, shape (d,)
        Column means.
    std : numpy.ndarray of float64, shape (d,)
        Column standard deviations, with 0 replaced by 1.
    """
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std = np.where(std == 0, 1.0, std)
    return (X - mean) / std, mean, std


def train_linear_regression(X, y, learning_rate=0.1, num_iterations=1000):
    """Fit ``y ~ X w + b`` by full-batch gradient descent on the mean squared error.

    Starts from ``w = 0`` and ``b = 0`` and repeats ``num_iterations`` times::

        losses.append(L(w, b))
        dw, db = mse_gradients(X, y, w, b)
        w = w - learning_rate * dw
        b = b - learning_rate * db

    so ``losses[k]`` is the loss *before* update ``k`` and the returned ``(w, b)`` come after the
    last update. ``X`` is used as given (no scaling inside).

    Parameters
    ----------
    X : array_like, shape (n, d)
        Features. Not modified.
    y : array_like, shape (n,)
        Targets. Not modified.
    learning_rate : float, optional
        Step size.
    num_iterations : int, optional
        Number of updates.

    Returns
    -------
    w : numpy.ndarray of float64, shape (d,)
        Final weights.
    b : float
        Final intercept.
    losses : numpy.ndarray of float64, shape (num_iterations,)
        The loss before each update.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.zeros(X.shape[1])
    b = 0.0
    losses = np.zeros(num_iterations)
    for k in range(num_iterations):
        losses[k] = mse_loss(predict(X, w, b), y)
        dw, db = mse_gradients(X, y, w, b)
        w = w - learning_rate * dw
        b = b - learning_rate * db
    return w, float(b), losses


def closed_form_fit(X, y):
    """Least-squares fit with an intercept, by ``np.linalg.lstsq``.

    Appends a column of ones to ``X`` and solves ``min ||[X, 1] [w; b] - y||^2``; the minimiser of
    the mean squared error is the same.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Features.
    y : array_like, shape (n,)
        Targets.

    Returns
    -------
    w : numpy.ndarray of float64, shape (d,)
        Weights.
    b : float
        Intercept.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    design = np.column_stack([X, np.ones(X.shape[0])])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    return coef[:-1], float(coef[-1])
