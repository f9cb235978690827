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


def minibatches(n, batch_size, rng):
    """The minibatches of one epoch: a shuffled order of the examples, cut into consecutive pieces.

    The order comes from one call of ``rng.permutation(n)``; the batches are its pieces
    ``[0:B]``, ``[B:2B]``, ... with ``B = batch_size``; the last one is shorter when B does not
    divide n.

    Parameters
    ----------
    n : int
        The number of examples.
    batch_size : int
        The batch size B >= 1 (B >= n gives one batch of all examples).
    rng : numpy.random.Generator
        The source of the shuffle: exactly one call to ``rng.permutation(n)``.

    Returns
    -------
    list of numpy.ndarray of int
        The index arrays, ``ceil(n / B)`` of them; together they hold every index exactly once.
    """
    order = rng.permutation(n)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]


def minibatch_sgd(X, y, learning_rate, batch_size, num_epochs, rng, momentum=0.0):
    """Minibatch stochastic gradient descent with (heavy-ball) momentum, from w = 0, b = 0.

    Every epoch draws its batches with :func:`minibatches`; every batch makes one step with the
    gradient ``g`` of the MSE on that batch (:func:`mse_gradients`), for ``w`` and ``b`` alike::

        velocity <- momentum * velocity + g,   parameter <- parameter - learning_rate * velocity

    with both velocities starting at 0 (PyTorch's ``SGD(momentum=...)``). ``momentum = 0`` is
    plain minibatch SGD, and ``batch_size >= n`` with ``momentum = 0`` is full-batch gradient
    descent.

    Parameters
    ----------
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
    learning_rate : float
    batch_size : int
    num_epochs : int
    rng : numpy.random.Generator
        Where the shuffles come from (one permutation per epoch).
    momentum : float, optional
        The momentum coefficient in [0, 1).

    Returns
    -------
    numpy.ndarray of float64, shape (num_epochs * ceil(n / batch_size) + 1, d + 1)
        The path: row 0 is all zeros, row k holds ``(w_1, ..., w_d, b)`` after step k.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = X.shape
    w, b = np.zeros(d), 0.0
    v_w, v_b = np.zeros(d), 0.0
    path = [np.zeros(d + 1)]
    for _ in range(num_epochs):
        for batch in minibatches(n, batch_size, rng):
            dw, db = mse_gradients(X[batch], y[batch], w, b)
            v_w = momentum * v_w + dw
            v_b = momentum * v_b + db
            w = w - learning_rate * v_w
            b = b - learning_rate * v_b
            path.append(np.append(w, b))
    return np.array(path, dtype=np.float64)
