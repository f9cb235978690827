"""What crosses between the judge and the kernel: framed JSON messages holding plain data.

Both sides import this module (the kernel's agent and the trusted judge), so it uses only the
standard library and numpy. Nothing is ever unpickled or evaluated: a message is a JSON document
of at most :data:`MAX_MESSAGE` bytes, nested at most :data:`MAX_DEPTH` deep, and every value in it
is one of

* ``None``, ``bool``, ``int``, ``float`` (NaN and infinities included), ``str``, and lists of them;
* a tagged object: ``{"$t": [...]}`` tuple, ``{"$d": [[k, v], ...]}`` dict, ``{"$s": [...]}`` set,
  ``{"$c": [re, im]}`` complex, ``{"$b": base64}`` bytes, ``{"$a": [dtype, shape, base64]}`` numpy
  array of booleans or numbers, ``{"$n": [dtype, base64]}`` numpy scalar, ``{"$g": state}`` a numpy
  random Generator (by value: each side draws from its own copy);
* a reference that only its side can resolve: ``{"$ref": ...}`` an object that stays in the kernel,
  ``{"$cb": ...}`` a callable that stays in the judge, ``{"$lib": "numpy.sin"}`` a library function
  that both sides have, ``{"$arg": k}`` / ``{"$view": [...]}`` a call's own argument (or a view of
  it) coming back, ``{"$alias": k}`` an argument passed twice, ``{"$member": [k, i]}`` entry i of
  a list argument coming back.

Exact types only: a subclass of ``float``, ``list`` or ``numpy.ndarray`` is not plain data; the
kernel sends it as a reference, so an object that pretends to be a number stays a stranger.
"""
from __future__ import annotations

import base64
import json
import socket
import struct
import time
from typing import Any, Callable

import numpy as np

#: Largest message either side sends or accepts, in bytes.
MAX_MESSAGE = 64 * 2**20
#: Deepest nesting of containers in one value.
MAX_DEPTH = 48
#: Most values (containers and scalars, array elements not counted) decoded from one message:
#: a reply of millions of tiny lists would otherwise cost many times its size in memory.
MAX_ITEMS = 200_000
#: numpy dtype kinds that travel as data (booleans and numbers).
ARRAY_KINDS = frozenset("biufc")
#: Modules whose functions travel by name (``{"$lib": ...}``) and run where they are called.
LIBRARY_MODULES = ("numpy", "numpy.linalg", "math", "cmath", "operator", "builtins", "functools")

_HEADER = struct.Struct("!Q")


class WireError(Exception):
    """A message that breaks the protocol: too large, too deep, not JSON, an unknown tag."""


# --- framing ----------------------------------------------------------------------------------

def send(sock: socket.socket, message: dict) -> None:
    """Send one message (a JSON object)."""
    data = json.dumps(message, separators=(",", ":"), allow_nan=True).encode()
    if len(data) > MAX_MESSAGE:
        raise WireError(f"a message of {len(data)} bytes is over the limit of {MAX_MESSAGE}")
    sock.sendall(_HEADER.pack(len(data)) + data)


def _read_exactly(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("the deadline passed while a message was arriving")
            sock.settimeout(remaining)
        n = sock.recv_into(view[got:], size - got)
        if n == 0:
            raise EOFError("the other side closed the connection")
        got += n
    return bytes(buffer)


def receive(sock: socket.socket, deadline: float | None = None) -> dict:
    """Receive one message, whole, before ``deadline`` (``time.monotonic()``; socket.timeout after).

    Raises :class:`WireError` for anything malformed, EOFError at the end of the connection.
    """
    (size,) = _HEADER.unpack(_read_exactly(sock, _HEADER.size, deadline))
    if size > MAX_MESSAGE:
        raise WireError(f"a message of {size} bytes is over the limit of {MAX_MESSAGE}")
    try:
        message = json.loads(_read_exactly(sock, size, deadline))
    except (ValueError, RecursionError) as err:
        raise WireError(f"a message is not valid JSON: {str(err)[:100]}") from None
    if not isinstance(message, dict):
        raise WireError("a message must be a JSON object")
    return message


# --- plain data ---------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise WireError("base64 data must be a string")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise WireError("invalid base64 data") from None


def _dtype(text: Any) -> np.dtype:
    try:
        dtype = np.dtype(str(text))
    except TypeError:
        raise WireError(f"unknown dtype {text!r}") from None
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"dtype {dtype} does not travel as data")
    return dtype


def is_plain_scalar(value: Any) -> bool:
    return type(value) in (type(None), bool, int, float, str)


def is_array(value: Any) -> bool:
    return type(value) is np.ndarray and value.dtype.kind in ARRAY_KINDS and value.dtype.fields is None


def is_numpy_scalar(value: Any) -> bool:
    return isinstance(value, np.generic) and type(value) is np.dtype(type(value)).type \
        and np.dtype(type(value)).kind in ARRAY_KINDS


def encode_array(value: np.ndarray) -> dict:
    data = value if value.flags.c_contiguous else value.copy(order="C")  # keeps 0-d arrays 0-d
    return {"$a": [data.dtype.str, list(data.shape), _b64(data.tobytes())]}


def decode_array(payload: Any) -> np.ndarray:
    """An array from ``[dtype, shape, base64]`` (a fourth element ``true``: read-only)."""
    if not (isinstance(payload, list) and len(payload) in (3, 4) and isinstance(payload[1], list)):
        raise WireError("malformed array")
    dtype = _dtype(payload[0])
    shape = tuple(payload[1])
    if not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 32:
        raise WireError("malformed array shape")
    raw = _unb64(payload[2])
    if len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise WireError("array data does not match its shape")
    array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if len(payload) == 4 and payload[3] is True:
        array.setflags(write=False)
    return array


class Codec:
    """Turns values into JSON-able data and back, with side-specific hooks for references.

    Parameters
    ----------
    export : callable
        ``export(value) -> dict``: the tagged reference for a value that is not plain data
        (raise TypeError when it cannot leave this side).
    resolve : callable
        ``resolve(tag, payload) -> value`` for the reference tags (``$ref``, ``$cb``, ``$lib``,
        ``$arg``, ``$view``, ``$alias``); raise :class:`WireError` for an unknown one.

    identify : callable, optional
        ``identify(value) -> dict | None``, asked first for every container or array: a tag that
        stands for it (a call's own argument coming back, say), or None to encode it as data.
    """

    def __init__(self, export: Callable[[Any], dict], resolve: Callable[[str, Any], Any],
                 identify: Callable[[Any], dict | None] | None = None):
        self.export = export
        self.resolve = resolve
        self.identify = identify
        self.budget = MAX_ITEMS   # what may still be decoded of the current message

    def encode(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise WireError(f"a value is nested more than {MAX_DEPTH} levels deep")
        if is_plain_scalar(value):
            return value
        if self.identify is not None:
            tagged = self.identify(value)
            if tagged is not None:
                return tagged
        kind = type(value)
        if kind is list:
            return [self.encode(v, depth + 1) for v in value]
        if kind is tuple:
            return {"$t": [self.encode(v, depth + 1) for v in value]}
        if kind is dict:
            return {"$d": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()]}
        if kind in (set, frozenset):
            return {"$s" if kind is set else "$fs": [self.encode(v, depth + 1) for v in value]}
        if kind is complex:
            return {"$c": [value.real, value.imag]}
        if kind is bytes:
            return {"$b": _b64(value)}
        if is_array(value):
            return encode_array(value)
        if is_numpy_scalar(value):
            return {"$n": [value.dtype.str, _b64(value.tobytes())]}
        if kind is np.random.Generator:
            return {"$g": self.encode(value.bit_generator.state, depth + 1)}
        return self.export(value)

    def decode(self, data: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise WireError(f"a value is nested more than {MAX_DEPTH} levels deep")
        self.budget -= 1
        if self.budget < 0:
            raise WireError(f"a value holds more than {MAX_ITEMS} items")
        if is_plain_scalar(data):
            return data
        if type(data) is list:
            return [self.decode(v, depth + 1) for v in data]
        if type(data) is not dict or len(data) != 1:
            raise WireError("malformed value")
        ((tag, payload),) = data.items()
        if tag in ("$t", "$s", "$fs"):
            items = [self.decode(v, depth + 1) for v in as_list(payload)]
            try:
                return {"$t": tuple, "$s": set, "$fs": frozenset}[tag](items)
            except TypeError:
                raise WireError("a set holds an unhashable value") from None
        if tag == "$d":
            try:
                return {self.decode(k, depth + 1): self.decode(v, depth + 1)
                        for k, v in (pair(p) for p in as_list(payload))}
            except TypeError:
                raise WireError("a dict key is unhashable") from None
        if tag == "$c":
            re_, im = pair(payload)
            return complex(float(re_), float(im))
        if tag == "$b":
            return _unb64(payload)
        if tag == "$a":
            return decode_array(payload)
        if tag == "$n":
            dtype_text, raw = pair(payload)
            dtype = _dtype(dtype_text)
            raw = _unb64(raw)
            if len(raw) != dtype.itemsize:
                raise WireError("malformed numpy scalar")
            return np.frombuffer(raw, dtype=dtype)[0]
        if tag == "$g":
            return decode_generator(self.decode(payload, depth + 1))
        return self.resolve(tag, payload)


#: The bit generators a numpy Generator may travel with (``{"$g": state}``).
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")


def decode_generator(state: Any) -> np.random.Generator:
    """A new numpy Generator in the given state (its bit generator's ``state`` dict).

    A generator travels by value, like an array: the other side draws from its own copy, so a
    request for a billion draws costs the side that makes it, never the judge; the draws made
    come back as the copy's new state, like an argument changed in place.
    """
    name = state.get("bit_generator") if type(state) is dict else None
    if name not in BIT_GENERATORS:
        raise WireError("malformed random generator")
    generator = np.random.Generator(getattr(np.random, name)())
    try:
        generator.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError):
        raise WireError("malformed random generator state") from None
    return generator


def as_list(payload: Any) -> list:
    if type(payload) is not list:
        raise WireError("malformed container")
    return payload


def pair(payload: Any) -> list:
    if type(payload) is not list or len(payload) != 2:
        raise WireError("malformed pair")
    return payload


def library_name(function: Any) -> str | None:
    """``"numpy.sin"`` for a function both sides have (see :data:`LIBRARY_MODULES`), else None."""
    import importlib

    name = getattr(function, "__name__", None)
    if not isinstance(name, str):
        return None
    candidates = [getattr(function, "__module__", None)] if not isinstance(function, np.ufunc) else ["numpy"]
    for module_name in [*candidates, *LIBRARY_MODULES]:
        if module_name not in LIBRARY_MODULES:
            continue
        module = importlib.import_module(module_name)
        if getattr(module, name, None) is function:
            return f"{module_name}.{name}"
    return None


def library_function(path: Any) -> Any:
    """The function a ``$lib`` reference names (only from :data:`LIBRARY_MODULES`)."""
    import importlib

    if not isinstance(path, str) or "." not in path:
        raise WireError(f"malformed library reference {path!r}")
    module_name, name = path.rsplit(".", 1)
    if module_name not in LIBRARY_MODULES or name.startswith("_"):
        raise WireError(f"{path!r} is not a library function")
    function = getattr(importlib.import_module(module_name), name, None)
    if not callable(function):
        raise WireError(f"{path!r} is not a library function")
    return function
