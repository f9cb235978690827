"""Reference solutions for assignment 6: backpropagation from scratch.

Every public name here has the name and signature the notebook asks for. The code only uses
numpy and the other public names of this module, because the course's tests paste it into a
notebook's solution cells (the "solutions-package submission" that must score full marks).

The two classes are the notebook's classes in full: the parts the notebook gives (``__init__``,
``__repr__`` and ``__add__``) and the parts the student writes.
"""
import numpy as np


class Value:
    """A scalar node of a computation graph, for reverse-mode automatic differentiation.

    Every arithmetic operation on Values returns a new Value that remembers the Values it was
    computed from (its children) and a function ``_backward`` that passes the new node's gradient
    on to them with the chain rule: ``child.grad += local_derivative * out.grad``. Calling
    :meth:`backward` on the final node visits the graph in reverse topological order and fills
    ``grad`` of every node with the derivative of the final node with respect to that node.

    Numbers may appear on either side of ``+ - * /``; they are wrapped in a Value (a constant of
    the graph). ``**`` takes a number exponent (int or float).

    Parameters
    ----------
    data : float
        The number this node holds.
    children : tuple of Value, optional
        The nodes this one was computed from (set by the operations).

    Attributes
    ----------
    data : float
        The value from the forward pass.
    grad : float
        ``d(output) / d(this node)`` after ``output.backward()``; 0.0 before.
    """

    def __init__(self, data, children=()):
        self.data = float(data)
        self.grad = 0.0
        self._children = tuple(children)
        self._backward = lambda: None

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    def __add__(self, other):
        """``self + other``; the local derivatives are 1 and 1."""
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __radd__(self, other):
        """``other + self`` for a number ``other`` (Python calls this when ``other + self`` fails)."""
        return self + other

    def __neg__(self):
        """``-self``, computed as ``self * -1``."""
        return self * -1.0

    def __sub__(self, other):
        """``self - other`` = ``self + (-other)``."""
        other = other if isinstance(other, Value) else Value(other)
        return self + (-other)

    def __rsub__(self, other):
        """``other - self`` for a number ``other``."""
        return Value(other) - self

    def __mul__(self, other):
        """``self * other``; local derivatives ``other.data`` and ``self.data`` (product rule)."""
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __rmul__(self, other):
        """``other * self`` for a number ``other``."""
        return self * other

    def __truediv__(self, other):
        """``self / other``; local derivatives ``1 / b`` and ``-a / b**2``."""
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data / other.data, (self, other))

        def _backward():
            self.grad += out.grad / other.data
            other.grad += -self.data / other.data**2 * out.grad

        out._backward = _backward
        return out

    def __rtruediv__(self, other):
        """``other / self`` for a number ``other``."""
        return Value(other) / self

    def __pow__(self, exponent):
        """``self ** exponent`` for a number exponent; local derivative ``n * x**(n - 1)``."""
        if isinstance(exponent, Value):
            raise TypeError("Value ** Value is not supported: the exponent must be a number")
        n = float(exponent)
        out = Value(self.data**n, (self,))

        def _backward():
            self.grad += n * self.data ** (n - 1) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        """``e**self``; local derivative ``e**self`` (the output itself)."""
        out = Value(float(np.exp(self.data)), (self,))

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self):
        """Natural logarithm (self must be positive); local derivative ``1 / self``."""
        out = Value(float(np.log(self.data)), (self,))

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self):
        """``tanh(self)``; local derivative ``1 - tanh(self)**2``."""
        t = float(np.tanh(self.data))
        out = Value(t, (self,))

        def _backward():
            self.grad += (1.0 - t * t) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        """``max(self, 0)``; local derivative 1 where self > 0 and 0 elsewhere (0 at 0)."""
        out = Value(self.data if self.data > 0 else 0.0, (self,))

        def _backward():
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self):
        """``1 / (1 + e**-self)``, computed without overflow; local derivative ``s (1 - s)``."""
        e = float(np.exp(-abs(self.data)))
        s = 1.0 / (1.0 + e) if self.data >= 0 else e / (1.0 + e)
        out = Value(s, (self,))

        def _backward():
            self.grad += s * (1.0 - s) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        """Fill ``grad`` of every node of the graph with ``d(self) / d(node)``.

        The nodes are put in topological order (every node after all nodes it was computed
        from) with an explicit stack, so graphs of any depth work without recursion. Then
        ``self.grad`` is set to 1 and each node's ``_backward`` runs in reverse order, so a node
        passes its gradient on only after every node that uses it has added its contribution.
        """
        order = []
        visited = set()
        stack = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            for child in node._children:
                if child not in visited:
                    stack.append((child, False))
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


class Dual:
    """A dual number ``value + deriv * eps`` with ``eps**2 = 0``, for forward-mode differentiation.

    Arithmetic on dual numbers carries derivatives forward: if ``deriv`` holds ``dx/dt`` for
    some direction t, every operation returns the Dual of its result with its derivative along
    the same direction (sum, product, quotient and chain rules). Numbers may appear on either
    side of ``+ - * /`` (they are constants: derivative 0); ``**`` takes a number exponent.

    Parameters
    ----------
    value : float
        The ordinary value.
    deriv : float, optional
        Its derivative along the chosen direction (default 0.0).
    """

    def __init__(self, value, deriv=0.0):
        self.value = float(value)
        self.deriv = float(deriv)

    def __repr__(self):
        return f"Dual(value={self.value:.6g}, deriv={self.deriv:.6g})"

    def __add__(self, other):
        """``self + other``: values add, derivatives add."""
        other = other if isinstance(other, Dual) else Dual(other)
        return Dual(self.value + other.value, self.deriv + other.deriv)

    def __radd__(self, other):
        """``other + self`` for a number ``other``."""
        return self + other

    def __neg__(self):
        """``-self``."""
        return Dual(-self.value, -self.deriv)

    def __sub__(self, other):
        """``self - other``."""
        other = other if isinstance(other, Dual) else Dual(other)
        return Dual(self.value - other.value, self.deriv - other.deriv)

    def __rsub__(self, other):
        """``other - self`` for a number ``other``."""
        return Dual(other) - self

    def __mul__(self, other):
        """``self * other``: product rule ``(u v)' = u' v + u v'``."""
        other = other if isinstance(other, Dual) else Dual(other)
        return Dual(self.value * other.value, self.deriv * other.value + self.value * other.deriv)

    def __rmul__(self, other):
        """``other * self`` for a number ``other``."""
        return self * other

    def __truediv__(self, other):
        """``self / other``: quotient rule ``(u / v)' = (u' v - u v') / v**2``."""
        other = other if isinstance(other, Dual) else Dual(other)
        return Dual(self.value / other.value,
                    (self.deriv * other.value - self.value * other.deriv) / other.value**2)

    def __rtruediv__(self, other):
        """``other / self`` for a number ``other``."""
        return Dual(other) / self

    def __pow__(self, exponent):
        """``self ** exponent`` for a number exponent: ``(u**n)' = n u**(n - 1) u'``."""
        if isinstance(exponent, Dual):
            raise TypeError("Dual ** Dual is not supported: the exponent must be a number")
        n = float(exponent)
        return Dual(self.value**n, n * self.value ** (n - 1) * self.deriv)

    def exp(self):
        """``e**self``: ``(e**u)' = e**u u'``."""
        e = float(np.exp(self.value))
        return Dual(e, e * self.deriv)

    def log(self):
        """Natural logarithm: ``(log u)' = u' / u``."""
        return Dual(float(np.log(self.value)), self.deriv / self.value)

    def tanh(self):
        """``tanh(self)``: ``(tanh u)' = (1 - tanh(u)**2) u'``."""
        t = float(np.tanh(self.value))
        return Dual(t, (1.0 - t * t) * self.deriv)

    def relu(self):
        """``max(self, 0)``: derivative ``u'`` where u > 0, else 0."""
        if self.value > 0:
            return Dual(self.value, self.deriv)
        return Dual(0.0, 0.0)

    def sigmoid(self):
        """``1 / (1 + e**-self)`` without overflow: ``(sigma(u))' = s (1 - s) u'``."""
        e = float(np.exp(-abs(self.value)))
        s = 1.0 / (1.0 + e) if self.value >= 0 else e / (1.0 + e)
        return Dual(s, s * (1.0 - s) * self.deriv)


def forward_mode_derivative(f, x, i):
    """Partial derivative ``df/dx_i`` at x, by forward mode with dual numbers.

    Every coordinate becomes a Dual: ``Dual(x[j], 1.0)`` for ``j == i`` (the direction we
    differentiate along) and ``Dual(x[j], 0.0)`` otherwise. ``f`` is called once on the list of
    these Duals; the ``deriv`` of its result is the partial derivative.

    Parameters
    ----------
    f : callable
        ``f(xs)`` takes a list of n numbers (here: Duals) and returns one Dual built from them
        with the operations Dual supports, or a plain number when it does not depend on xs.
    x : sequence of float, length n
        The point (list, tuple or 1-D numpy array; not modified).
    i : int
        The coordinate, ``0 <= i < n``.

    Returns
    -------
    float
        ``df/dx_i`` at x; 0.0 when f returns a plain number.
    """
    point = np.asarray(x, dtype=np.float64).ravel()
    duals = [Dual(value, 1.0 if j == i else 0.0) for j, value in enumerate(point)]
    out = f(duals)
    if isinstance(out, Dual):
        return float(out.deriv)
    return 0.0


def gradient_norms_through_depth(depth, width, activation, init, seed):
    """Frobenius norm of ``dL/dW_l`` for every layer of a random deep network.

    The network: ``a_0 = x``; for ``l = 1 .. depth``: ``z_l = W_l a_{l-1}``,
    ``a_l = act(z_l)`` (no biases); loss ``L = sum(a_depth)``. All arrays are float64.

    Random numbers, in this order, from ``rng = np.random.default_rng(seed)``: first
    ``x = rng.standard_normal(width)``, then ``W_l = std * rng.standard_normal((width, width))``
    for ``l = 1, 2, ..., depth``, with ``std = 0.01`` for ``init="small"``,
    ``sqrt(1 / width)`` for ``"xavier"`` (variance 2 / (fan_in + fan_out)) and
    ``sqrt(2 / width)`` for ``"he"`` (variance 2 / fan_in).

    Backward pass: ``g = dL/da_depth = ones(width)``; for ``l = depth .. 1``:
    ``delta_l = g * act'(z_l)``, ``dL/dW_l = outer(delta_l, a_{l-1})``,
    ``g = W_l.T @ delta_l``. For ``"sigmoid"``, ``act'(z) = s (1 - s)`` with ``s = sigmoid(z)``;
    for ``"relu"``, ``act'(z)`` is 1 where ``z > 0`` and 0 elsewhere.

    Parameters
    ----------
    depth, width : int
        Number of layers (at least 1) and units per layer (at least 1).
    activation : {"sigmoid", "relu"}
    init : {"small", "xavier", "he"}
    seed : int

    Returns
    -------
    numpy.ndarray of float64, shape (depth,)
        Entry ``l - 1`` is ``||dL/dW_l||_F = sqrt(sum of squares)``; entry 0 is the layer next
        to the input, entry ``depth - 1`` the layer next to the loss.

    Raises
    ------
    ValueError
        For an unknown activation or init.
    """
    if activation not in ("sigmoid", "relu"):
        raise ValueError(f"activation must be 'sigmoid' or 'relu', got {activation!r}")
    stds = {"small": 0.01, "xavier": np.sqrt(1.0 / width), "he": np.sqrt(2.0 / width)}
    if init not in stds:
        raise ValueError(f"init must be 'small', 'xavier' or 'he', got {init!r}")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(width)
    weights = [stds[init] * rng.standard_normal((width, width)) for _ in range(depth)]

    inputs, pre = [x], []
    for W in weights:
        z = W @ inputs[-1]
        pre.append(z)
        if activation == "sigmoid":
            inputs.append(1.0 / (1.0 + np.exp(-z)))
        else:
            inputs.append(np.maximum(z, 0.0))

    norms = np.zeros(depth, dtype=np.float64)
    g = np.ones(width)
    for layer in range(depth - 1, -1, -1):
        z = pre[layer]
        if activation == "sigmoid":
            s = 1.0 / (1.0 + np.exp(-z))
            local = s * (1.0 - s)
        else:
            local = (z > 0).astype(np.float64)
        delta = g * local
        norms[layer] = np.linalg.norm(np.outer(delta, inputs[layer]))
        g = weights[layer].T @ delta
    return norms


def he_init(fan_in, fan_out, rng):
    """He (Kaiming) initialisation for a ReLU layer ``z = W a``.

    Draws ``W = sqrt(2 / fan_in) * rng.standard_normal((fan_out, fan_in))``: zero mean and
    variance ``2 / fan_in``, which keeps the size of the signal (and of the gradient) the same
    from layer to layer when half of the ReLU units are off.

    Parameters
    ----------
    fan_in, fan_out : int
        Inputs and outputs of the layer.
    rng : numpy.random.Generator
        The source of randomness (``np.random.default_rng(seed)``); no other is used.

    Returns
    -------
    numpy.ndarray of float64, shape (fan_out, fan_in)
    """
    return np.sqrt(2.0 / fan_in) * rng.standard_normal((fan_out, fan_in))


def clip_grad_norm(grads, max_norm):
    """Rescale a list of gradient arrays together by their global norm (PyTorch's rule).

    ``total = sqrt(sum over all arrays of sum(g**2))`` and ``coef = max_norm / (total + 1e-6)``.
    If ``coef < 1`` every array is multiplied by ``coef``; otherwise they are returned unchanged
    (as copies). The direction of the whole gradient is kept; only its length is capped.

    Parameters
    ----------
    grads : list of array_like
        The gradients (any shapes); not modified.
    max_norm : float
        The largest allowed global norm, positive.

    Returns
    -------
    list of numpy.ndarray of float64
        New arrays, with the shapes of the inputs.
    """
    arrays = [np.array(g, dtype=np.float64) for g in grads]
    total = np.sqrt(sum(float(np.sum(g * g)) for g in arrays))
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        arrays = [g * coef for g in arrays]
    return arrays


class Module:
    """What every part of a network shares: its parameters and resetting their gradients."""

    def zero_grad(self):
        """Set the gradient of every parameter to 0.0 (before each backward pass of training)."""
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self):
        """The list of this module's parameters (Values); a module without any returns []."""
        return []


class Neuron(Module):
    """One unit: ``tanh(w . x + b)``, or ``w . x + b`` when ``nonlinear`` is False.

    The weights are drawn from ``rng.uniform(-1, 1, size=n_inputs)`` and the bias starts at 0.

    Parameters
    ----------
    n_inputs : int
        The number of inputs.
    rng : numpy.random.Generator
        Where the initial weights come from.
    nonlinear : bool, optional
        Apply tanh to the weighted sum (True) or return the sum itself (False).

    Attributes
    ----------
    w : list of Value
        One weight per input.
    b : Value
        The bias.
    """

    def __init__(self, n_inputs, rng, nonlinear=True):
        self.w = [Value(float(v)) for v in rng.uniform(-1.0, 1.0, size=n_inputs)]
        self.b = Value(0.0)
        self.nonlinear = nonlinear

    def __call__(self, x):
        """The neuron's output (a Value) for ``x``, a sequence of numbers or Values."""
        total = self.b
        for w_i, x_i in zip(self.w, x):
            total = total + w_i * x_i
        return total.tanh() if self.nonlinear else total

    def parameters(self):
        """The weights, then the bias: a list of ``n_inputs + 1`` Values."""
        return self.w + [self.b]


class Layer(Module):
    """``n_outputs`` neurons that all read the same inputs.

    Attributes
    ----------
    neurons : list of Neuron
    """

    def __init__(self, n_inputs, n_outputs, rng, nonlinear=True):
        self.neurons = [Neuron(n_inputs, rng, nonlinear) for _ in range(n_outputs)]

    def __call__(self, x):
        """The list of the neurons' outputs for ``x`` (one Value per neuron)."""
        return [neuron(x) for neuron in self.neurons]

    def parameters(self):
        """Every parameter of every neuron, in one flat list."""
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MLP(Module):
    """A multilayer perceptron: tanh layers, then a linear output layer.

    ``MLP(2, [8, 1], rng)`` maps 2 inputs through 8 tanh units to 1 linear output.

    Attributes
    ----------
    layers : list of Layer
    """

    def __init__(self, n_inputs, layer_sizes, rng):
        sizes = [n_inputs] + list(layer_sizes)
        self.layers = [Layer(sizes[i], sizes[i + 1], rng, nonlinear=i < len(layer_sizes) - 1)
                       for i in range(len(layer_sizes))]

    def __call__(self, x):
        """Feed ``x`` through every layer; one Value if the last layer has one neuron, else a list."""
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(x) == 1 else x

    def parameters(self):
        """Every parameter of every layer, in one flat list."""
        return [p for layer in self.layers for p in layer.parameters()]


def hinge_loss(scores, labels):
    """The mean hinge loss ``(1/n) sum_i max(0, 1 - y_i s_i)`` of scores against labels +1/-1.

    Parameters
    ----------
    scores : sequence of Value
        One score per example (the network's outputs).
    labels : sequence of int or float
        The classes, each -1 or +1.

    Returns
    -------
    Value
        The loss, a node of the graph, so that ``backward()`` reaches every parameter.
    """
    total = Value(0.0)
    for s, y in zip(scores, labels):
        total = total + (1.0 - float(y) * s).relu()
    return total / len(scores)


def train_step(model, X, y, learning_rate):
    """One step of gradient descent on the hinge loss of ``model`` over the data.

    The step zeroes the gradients, builds the loss of all examples, runs ``backward()`` and moves
    every parameter: ``p.data -= learning_rate * p.grad``.

    Parameters
    ----------
    model : MLP
        A network with one output.
    X : array_like, shape (n, d)
        The inputs, one example per row.
    y : array_like, shape (n,)
        The labels, -1 or +1.
    learning_rate : float

    Returns
    -------
    float
        The loss before the update.
    """
    model.zero_grad()
    loss = hinge_loss([model(list(x)) for x in np.asarray(X, dtype=np.float64)], y)
    loss.backward()
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return float(loss.data)
