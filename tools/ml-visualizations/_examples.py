"""Small example functions used by the command-line demos and the gallery.

Two-variable functions take arrays ``W, B`` and return an array; their
gradients return the pair ``(dW, dB)``.
"""

import numpy as np


def bowl(W, B):
    """The round bowl f(w, b) = w² + b²."""
    return np.asarray(W, dtype=np.float64) ** 2 + np.asarray(B, dtype=np.float64) ** 2


def bowl_grad(W, B):
    """Gradient (2w, 2b) of :func:`bowl`."""
    return 2.0 * np.asarray(W, dtype=np.float64), 2.0 * np.asarray(B, dtype=np.float64)


def elongated(W, B):
    """The elongated quadratic f(w, b) = w² + 4 b² (condition number 4)."""
    return np.asarray(W, dtype=np.float64) ** 2 + 4.0 * np.asarray(B, dtype=np.float64) ** 2


def elongated_grad(W, B):
    """Gradient (2w, 8b) of :func:`elongated`."""
    return 2.0 * np.asarray(W, dtype=np.float64), 8.0 * np.asarray(B, dtype=np.float64)


def rosenbrock(W, B):
    """Rosenbrock's banana f(w, b) = (1 - w)² + 100 (b - w²)², minimum at (1, 1)."""
    W = np.asarray(W, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    return (1.0 - W) ** 2 + 100.0 * (B - W**2) ** 2


def rosenbrock_grad(W, B):
    """Gradient of :func:`rosenbrock`."""
    W = np.asarray(W, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    return -2.0 * (1.0 - W) - 400.0 * W * (B - W**2), 200.0 * (B - W**2)


#: name -> (f, grad, default learning rates for the panels: slow, good, oscillates, diverges)
FUNCTIONS_2D = {
    "bowl": (bowl, bowl_grad, (0.01, 0.1, 0.95, 1.05)),
    "elongated": (elongated, elongated_grad, (0.01, 0.1, 0.24, 0.26)),
    "rosenbrock": (rosenbrock, rosenbrock_grad, (0.0001, 0.001, 0.002, 0.003)),
}

#: name -> (f, f') for one-variable demos
FUNCTIONS_1D = {
    "sin": (np.sin, np.cos),
    "exp": (np.exp, np.exp),
    "cube": (lambda x: np.asarray(x, dtype=np.float64) ** 3,
             lambda x: 3.0 * np.asarray(x, dtype=np.float64) ** 2),
    "sigmoid": (lambda x: 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64))),
                lambda x: np.exp(-np.asarray(x, dtype=np.float64))
                / (1.0 + np.exp(-np.asarray(x, dtype=np.float64))) ** 2),
}
