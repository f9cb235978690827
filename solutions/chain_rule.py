"""Reference solutions for assignment 3: the chain rule, up to backpropagation.

Every public function here has the name and signature the notebook asks for. The functions only
use numpy and each other, because the course's tests paste them into a notebook's solution cells
(the "solutions-package submission" that must score full marks).
"""
import numpy as np


def chain_derivative(f_prime, g, g_prime):
    """The derivative of the composition ``x -> f(g(x))``, as a function.

    Formula (chain rule): ``(f o g)'(x) = f'(g(x)) * g'(x)``.

    Parameters
    ----------
    f_prime : callable
        Derivative of the outer function f.
    g, g_prime : callable
        The inner function and its derivative.

    Returns
    -------
    callable
        A function of x returning ``f_prime(g(x)) * g_prime(x)``; it works elementwise on arrays
        whenever the three given functions do.
    """
    def derivative(x):
        return f_prime(g(x)) * g_prime(x)

    return derivative


def sigmoid(z):
    """The logistic sigmoid ``1 / (1 + exp(-z))``, elementwise and without overflow.

    ``exp`` is only ever applied to ``-|z|`` (at most 1): for ``z >= 0`` the usual formula is
    used, for ``z < 0`` the equal form ``exp(z) / (1 + exp(z))``.

    Parameters
    ----------
    z : float or array_like
        Pre-activation(s); integers are accepted.

    Returns
    -------
    numpy.float64 or numpy.ndarray of float64
        A scalar for scalar z, else an array of z's shape, with values in [0, 1].
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))[()]


def sigmoid_derivative(z):
    """Derivative of the sigmoid at the pre-activation z: ``sigmoid(z) * (1 - sigmoid(z))``.

    Parameters
    ----------
    z : float or array_like
        Pre-activation(s) (not the activations sigmoid(z)).

    Returns
    -------
    numpy.float64 or numpy.ndarray of float64
        Same shape as z, values in [0, 1/4].
    """
    s = sigmoid(z)
    return s * (1.0 - s)


def relu(z):
    """The rectified linear unit ``max(z, 0)``, elementwise.

    Returns
    -------
    numpy.float64 or numpy.ndarray of float64
        A scalar for scalar z, else an array of z's shape (float64 also for integer z).
    """
    return np.maximum(np.asarray(z, dtype=np.float64), 0.0)[()]


def relu_derivative(z):
    """Derivative of ReLU: 1.0 where z > 0 and 0.0 elsewhere (0.0 at z = 0 by convention).

    Returns
    -------
    numpy.float64 or numpy.ndarray of float64
        A scalar for scalar z, else an array of z's shape.
    """
    return (np.asarray(z) > 0).astype(np.float64)[()]


def neuron_gradients(x, w, b):
    """Output and gradients of one sigmoid neuron ``y = sigmoid(w . x + b)``.

    With ``z = w . x + b`` and ``s' = sigmoid_derivative(z)`` the chain rule gives
    ``dy/dw = s' x``, ``dy/db = s'`` and ``dy/dx = s' w``.

    Parameters
    ----------
    x, w : array_like, shape (n,)
        Input and weights.
    b : float
        Bias.

    Returns
    -------
    dict
        ``"y"`` (float), ``"dw"`` (float64 array, shape (n,)), ``"db"`` (float) and ``"dx"``
        (float64 array, shape (n,)).
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    if x.ndim != 1 or x.shape != w.shape:
        raise ValueError(f"x and w must be 1-D of the same length, got shapes {x.shape} and {w.shape}")
    z = float(w @ x + b)
    local = float(sigmoid_derivative(z))
    return {"y": float(sigmoid(z)), "dw": local * x, "db": local, "dx": local * w}


def softmax(z):
    """Softmax ``exp(z_i) / sum_j exp(z_j)`` of a 1-D vector, computed without overflow.

    The maximum is subtracted first (softmax(z) = softmax(z - c) for any constant c), so the
    largest exponent is exp(0) = 1.

    Parameters
    ----------
    z : array_like, shape (n,)
        Scores (logits).

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
        Positive probabilities that sum to 1.
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def softmax_jacobian(z):
    """Jacobian of softmax at z: ``J[i, j] = s_i (delta_ij - s_j)``, i.e. ``diag(s) - s s^T``.

    Parameters
    ----------
    z : array_like, shape (n,)

    Returns
    -------
    numpy.ndarray of float64, shape (n, n)
        Symmetric; every row and column sums to 0.
    """
    s = softmax(z)
    return np.diag(s) - np.outer(s, s)


def softmax_cross_entropy_grad(z, y):
    """Gradient with respect to the scores z of ``L = -sum_i y_i log softmax(z)_i``.

    For a one-hot target y this is ``softmax(z) - y``: prediction minus target.

    Parameters
    ----------
    z : array_like, shape (n,)
        Scores.
    y : array_like, shape (n,)
        One-hot target.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
    """
    return softmax(z) - np.asarray(y, dtype=np.float64)


def jacobian_chain(jacobians):
    """Jacobian of a composition of layers, from the layers' Jacobians.

    Layer k maps R^(n_{k-1}) to R^(n_k) and has Jacobian J_k of shape (n_k, n_{k-1}). For the
    layers applied in list order, the chain rule gives ``J = J_k ... J_2 J_1`` (the last layer on
    the left).

    Parameters
    ----------
    jacobians : sequence of array_like, each 2-D
        ``[J_1, ..., J_k]``, at least one.

    Returns
    -------
    numpy.ndarray of float64, shape (n_k, n_0)

    Raises
    ------
    ValueError
        If the list is empty, a Jacobian is not 2-D, or J_{i+1} has not as many columns as J_i
        has rows.
    """
    if len(jacobians) == 0:
        raise ValueError("jacobian_chain needs at least one Jacobian")
    result = np.array(jacobians[0], dtype=np.float64)
    if result.ndim != 2:
        raise ValueError(f"J_1 must be a 2-D array, got shape {result.shape}")
    for k, jac in enumerate(jacobians[1:], start=2):
        jac = np.asarray(jac, dtype=np.float64)
        if jac.ndim != 2 or jac.shape[1] != result.shape[0]:
            raise ValueError(
                f"J_{k} has shape {jac.shape}, but the layers before it output {result.shape[0]} "
                f"values, so it needs {result.shape[0]} columns"
            )
        result = jac @ result
    return result


def two_layer_backward(x, y, W1, b1, W2, b2):
    """Backpropagation through a two-layer network with a sigmoid hidden layer.

    Forward: ``z1 = W1 x + b1``, ``a1 = sigmoid(z1)``, ``y_hat = W2 a1 + b2``,
    ``L = 1/2 ||y_hat - y||^2``. Backward, from the loss:
    ``d2 = y_hat - y``, ``dW2 = d2 a1^T``, ``db2 = d2``, ``da1 = W2^T d2`` (each hidden unit feeds
    every output, so its gradient is a sum over the outputs), ``d1 = da1 * sigmoid'(z1)``,
    ``dW1 = d1 x^T``, ``db1 = d1``.

    Parameters
    ----------
    x : array_like, shape (n,)
    y : array_like, shape (m,)
    W1 : array_like, shape (h, n)
    b1 : array_like, shape (h,)
    W2 : array_like, shape (m, h)
    b2 : array_like, shape (m,)

    Returns
    -------
    dict
        ``"dW1"``, ``"db1"``, ``"dW2"``, ``"db2"``: float64 arrays of the shapes of W1, b1, W2, b2,
        the partial derivatives of L.
    """
    x, y, W1, b1, W2, b2 = (np.asarray(a, dtype=np.float64) for a in (x, y, W1, b1, W2, b2))
    z1 = W1 @ x + b1
    a1 = sigmoid(z1)
    y_hat = W2 @ a1 + b2
    delta2 = y_hat - y
    delta1 = (W2.T @ delta2) * sigmoid_derivative(z1)
    return {
        "dW1": np.outer(delta1, x),
        "db1": delta1,
        "dW2": np.outer(delta2, a1),
        "db2": delta2,
    }


def train_step(params, X, Y, learning_rate):
    """One step of gradient descent on the two-layer network, over a batch of examples.

    The loss is the mean over the rows of ``L_i = 1/2 ||y_hat_i - y_i||^2``; its gradient is the
    mean of the per-example gradients from :func:`two_layer_backward`. Every parameter moves at
    once, from the same old values: ``W1 <- W1 - learning_rate * mean(dW1)``, and so on.

    Parameters
    ----------
    params : dict
        ``"W1"`` (h, n), ``"b1"`` (h,), ``"W2"`` (m, h), ``"b2"`` (m,): float64 arrays. Neither the
        dict nor its arrays are modified.
    X : numpy.ndarray, shape (N, n)
        One input per row. Not modified.
    Y : numpy.ndarray, shape (N, m)
        One target per row. Not modified.
    learning_rate : float
        The step size.

    Returns
    -------
    dict
        New float64 arrays under the same keys.
    """
    totals = {key: np.zeros(np.shape(value)) for key, value in params.items()}
    for x, y in zip(X, Y):
        grads = two_layer_backward(x, y, params["W1"], params["b1"], params["W2"], params["b2"])
        for key in totals:
            totals[key] += grads["d" + key]
    return {key: params[key] - learning_rate * totals[key] / len(X) for key in params}
