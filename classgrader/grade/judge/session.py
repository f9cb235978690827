"""The judge's side of one conversation with the student's kernel (one test cell).

A :class:`Session` owns the connection that :func:`classgrader.grade.judge.agent.serve` opened.
Everything the hidden test does with the student's code goes through it: calls with arguments sent
as data (arguments the student's code changes in place are changed here too, and an argument that
comes back is the caller's own object again), attribute access and operators on
:class:`~classgrader.grade.judge.remote.RemoteObject` stand-ins, the test's own functions called
back from the student's code, and swapping names of the notebook for the test's functions.

Every reply is read as untrusted data: bounded in size and depth, decoded without pickle or eval,
and within the cell's deadline.
"""
from __future__ import annotations

import builtins
import contextlib
import contextvars
import socket
import time
from typing import Any, Iterator

import numpy as np

from classgrader.grade.judge import wire
from classgrader.grade.judge.remote import RemoteObject

#: Types of arguments whose identity and in-place changes the judge keeps track of.
MUTABLE = (np.ndarray, list, dict, set)

_ACTIVE: contextvars.ContextVar["Session | None"] = contextvars.ContextVar("judge_session", default=None)


def active() -> "Session | None":
    """The session of the test cell the judge is running now (None outside the judge)."""
    return _ACTIVE.get()


class JudgeStop(BaseException):
    """The conversation cannot go on (a BaseException, so that a test's ``except Exception`` never
    swallows it)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class OutOfTime(JudgeStop):
    """The student's code did not answer within the cell's time."""


class KernelLost(JudgeStop):
    """The connection broke: the kernel died or stopped answering as it should."""


class StudentRaised(Exception):
    """Base of the exceptions that stand, in the judge, for one the student's code raised."""

    student_type: str = ""
    student_message: str = ""
    student_where: str = ""


_EXCEPTION_TYPES: dict[tuple[str, str], type] = {}


def student_exception(error: Any) -> BaseException:
    """A judge-side exception for an error the student's code raised (data from the kernel).

    It is an instance of the nearest built-in exception class (so ``except ValueError`` and
    ``expect_raises(ValueError, ...)`` work) and of :class:`StudentRaised`.
    """
    error = error if isinstance(error, dict) else {}
    name = str(error.get("type", "Exception"))[:100]
    base = Exception
    for candidate in error.get("bases", []) if isinstance(error.get("bases"), list) else []:
        kind = getattr(builtins, str(candidate), None)
        if isinstance(kind, type) and issubclass(kind, Exception):
            base = kind
            break
    key = (name, base.__name__)
    if key not in _EXCEPTION_TYPES:
        try:
            _EXCEPTION_TYPES[key] = type(name if name.isidentifier() else "StudentError",
                                         (base, StudentRaised), {})
        except TypeError:  # an instance lay-out conflict: keep the base class
            _EXCEPTION_TYPES[key] = type("StudentError", (StudentRaised,), {})
    exception = _EXCEPTION_TYPES[key](str(error.get("message", ""))[:1000])
    exception.student_type = name
    exception.student_message = str(error.get("message", ""))[:1000]
    exception.student_where = str(error.get("where", ""))[:100]
    return exception


class Session:
    """One test cell's connection to the kernel, with its deadline."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock, self.deadline = sock, deadline
        self.callbacks: dict[int, Any] = {}
        self.watching: list | None = None     # warnings of calls, while a check watches them
        self.codec = wire.Codec(self._export, self._resolve)
        self._call_args: dict[int, Any] = {}
        self.calls = 0

    @contextlib.contextmanager
    def running(self) -> Iterator["Session"]:
        """Make this the active session (see :func:`active`) while a test cell runs."""
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)

    # --- transport --------------------------------------------------------------------------

    def _send(self, message: dict) -> None:
        try:
            self.sock.settimeout(max(0.001, self.deadline - time.monotonic()))
            wire.send(self.sock, message)
        except (socket.timeout, TimeoutError):
            raise OutOfTime("the kernel did not take the request in time") from None
        except (OSError, wire.WireError) as err:
            raise KernelLost(f"the connection to the kernel broke ({err})") from None

    def _receive(self) -> dict:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise OutOfTime("out of time")
        try:
            self.sock.settimeout(remaining)
            return wire.receive(self.sock)
        except (socket.timeout, TimeoutError):
            raise OutOfTime("your code did not finish in time") from None
        except EOFError:
            raise KernelLost("the kernel closed the connection (did it crash or exit?)") from None
        except (OSError, wire.WireError) as err:
            raise KernelLost(f"the kernel sent something that is not a valid answer ({err})") from None

    def request(self, message: dict) -> dict:
        """Send a request; serve the kernel's callbacks until its reply comes."""
        self.calls += 1
        self._send(message)
        while True:
            reply = self._receive()
            if reply.get("op") == "callback":
                self._send(self._serve_callback(reply))
                continue
            if "op" in reply:
                raise KernelLost(f"unexpected request {str(reply.get('op'))[:40]!r} from the kernel")
            if "error" in reply:
                error = reply["error"]
                if isinstance(error, dict) and error.get("type") == "WireError":
                    raise KernelLost(f"the kernel could not read a request: {str(error.get('message'))[:200]}")
                raise student_exception(error)
            if "ok" not in reply:
                raise KernelLost("the kernel sent a reply without a value")
            return reply

    def _serve_callback(self, message: dict) -> dict:
        function = self.callbacks.get(message.get("id")) if type(message.get("id")) is int else None
        if function is None:
            return {"error": {"type": "LookupError", "message": "no such function"}}
        try:
            args = self.codec.decode(message.get("args", []))
            kwargs = self.codec.decode(message.get("kwargs", {"$d": []}))
            if type(args) is not list or type(kwargs) is not dict or not all(isinstance(k, str) for k in kwargs):
                raise wire.WireError("malformed callback")
            return {"ok": self.codec.encode(function(*args, **kwargs))}
        except JudgeStop:
            raise
        except wire.WireError as err:
            raise KernelLost(f"malformed callback ({err})") from None
        except Exception as err:  # noqa: BLE001 - passed on to the student's code
            # Only the type crosses: a message could quote what the test expects.
            return {"error": {"type": type(err).__name__, "message": "raised by the test's function"}}

    # --- values -----------------------------------------------------------------------------

    def _export(self, value: Any) -> dict:
        if isinstance(value, RemoteObject):
            return {"$ref": value._id}
        name = wire.library_name(value) if callable(value) else None
        if name:
            return {"$lib": name}
        if callable(value):
            ident = len(self.callbacks) + 1
            self.callbacks[ident] = value
            return {"$cb": ident}
        raise TypeError(f"a {type(value).__name__} cannot be passed to the student's code; pass plain "
                        "data (numbers, numpy arrays, strings, containers) or functions")

    def _resolve(self, tag: str, payload: Any) -> Any:
        if tag == "$ref":
            if not (isinstance(payload, list) and len(payload) == 4 and type(payload[0]) is int):
                raise wire.WireError("malformed reference")
            ident, type_name, is_callable, is_class = payload
            return RemoteObject(self, ident, str(type_name)[:100], bool(is_callable), bool(is_class))
        if tag == "$cb":
            if payload not in self.callbacks:
                raise wire.WireError("unknown callback")
            return self.callbacks[payload]
        if tag == "$alias":
            if payload not in self._call_args:
                raise wire.WireError("unknown argument")
            return self._call_args[payload]
        if tag == "$view":
            return self._view(payload)
        raise wire.WireError(f"unexpected tag {tag!r} from the kernel")

    def _view(self, payload: Any) -> np.ndarray:
        if not (isinstance(payload, list) and len(payload) == 4):
            raise wire.WireError("malformed view")
        key, shape, strides, offset = payload
        base = self._call_args.get(key)
        if type(base) is not np.ndarray or not base.flags.c_contiguous:
            raise wire.WireError("a view of an unknown argument")
        try:
            view = np.ndarray(tuple(shape), dtype=base.dtype, buffer=base.data, offset=int(offset),
                              strides=tuple(strides))
        except (TypeError, ValueError):
            raise wire.WireError("a view outside its argument") from None
        return view

    def _encode_arguments(self, args: tuple, kwargs: dict) -> tuple[list, dict]:
        """Arguments as data; each array, list, dict or set gets a key (identity, changes)."""
        keys: dict[int, int] = {}

        def one(value):
            if type(value) not in MUTABLE:
                return self.codec.encode(value)
            if id(value) in keys:
                return {"$alias": keys[id(value)]}
            key = keys[id(value)] = len(keys)
            self._call_args[key] = value
            inner = self.codec.encode(value)
            if type(value) is np.ndarray and not value.flags.writeable:
                inner["$a"].append(True)
            return {"$id": [key, inner]}

        return [one(a) for a in args], {"$d": [[k, one(v)] for k, v in kwargs.items()]}

    # --- what the test does -----------------------------------------------------------------

    def lookup(self, names: list[str]) -> dict[str, Any]:
        """The student's values of ``names`` that exist in the notebook."""
        found = self.request({"op": "lookup", "names": names})["ok"]
        if not isinstance(found, dict):
            raise KernelLost("malformed lookup reply")
        return {str(name): self.codec.decode(value) for name, value in found.items()}

    def call(self, function: Any, args: tuple, kwargs: dict) -> Any:
        outer = self._call_args
        self._call_args = {}
        try:
            encoded_args, encoded_kwargs = self._encode_arguments(args, kwargs)
            message = {"op": "call", "f": self.codec.encode(function), "args": encoded_args,
                       "kwargs": encoded_kwargs}
            if self.watching is not None:
                message["errstate"] = {"all": "warn", "under": "ignore"}
            reply = self.request(message)
            result = self.codec.decode(reply.get("ok"))
            self._apply_changes(reply.get("changed", []))
            self._note_warnings(reply.get("warnings", []))
            return result
        finally:
            self._call_args = outer

    def _apply_changes(self, changed: Any) -> None:
        for item in changed if isinstance(changed, list) else []:
            key, data = wire.pair(item)
            if key in self._call_args:
                update_in_place(self._call_args[key], self.codec.decode(data))

    def _note_warnings(self, caught: Any) -> None:
        if self.watching is None or not isinstance(caught, list):
            return
        for item in caught[:20]:
            if isinstance(item, list) and len(item) == 2:
                self.watching.append((str(item[0])[:60], str(item[1])[:300]))

    def getattr(self, obj: RemoteObject, name: str) -> Any:
        return self.codec.decode(self.request({"op": "getattr", "obj": self.codec.encode(obj),
                                               "name": name}).get("ok"))

    def setattr(self, obj: RemoteObject, name: str, value: Any) -> None:
        self.request({"op": "setattr", "obj": self.codec.encode(obj), "name": name,
                      "value": self.codec.encode(value)})

    def op(self, name: str, *operands: Any) -> Any:
        return self.codec.decode(self.request({"op": "op", "name": name,
                                               "args": self.codec.encode(list(operands))}).get("ok"))

    def call_each(self, function: Any, rows: list) -> list:
        """``[function(*row) for row in rows]`` in the kernel, in one round trip."""
        return self.codec.decode(self.request({"op": "call_each", "f": self.codec.encode(function),
                                               "rows": self.codec.encode([list(r) for r in rows])}).get("ok"))

    def fold(self, function: Any, start: Any, items: list) -> Any:
        """``functools.reduce(function, items, start)`` in the kernel, in one round trip."""
        return self.codec.decode(self.request({"op": "fold", "f": self.codec.encode(function),
                                               "start": self.codec.encode(start),
                                               "items": self.codec.encode(list(items))}).get("ok"))

    @contextlib.contextmanager
    def substitute(self, namespace: dict, replacements: dict) -> Iterator[None]:
        """Swap names in the notebook (and in the test's namespace) for the test's own values."""
        missing = object()
        saved = {name: namespace.get(name, missing) for name in replacements}
        self.request({"op": "substitute", "names": self.codec.encode(dict(replacements))})
        namespace.update(replacements)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is missing:
                    namespace.pop(name, None)
                else:
                    namespace[name] = value
            self.request({"op": "restore", "names": list(replacements)})

    @contextlib.contextmanager
    def watch_warnings(self) -> Iterator[list]:
        """Collect the warnings the student's code raises in calls made inside this block."""
        outer, self.watching = self.watching, []
        try:
            yield self.watching
        finally:
            caught, self.watching = self.watching, outer
            if outer is not None:
                outer.extend(caught)


def update_in_place(old: Any, new: Any) -> None:
    """Make ``old`` (the test's argument) look like ``new`` (the same argument after the call)."""
    if type(old) is np.ndarray and type(new) is np.ndarray:
        if old.dtype == new.dtype and old.size == new.size:
            if old.shape != new.shape:
                with contextlib.suppress(AttributeError, ValueError):
                    old.shape = new.shape
            if old.shape == new.shape:
                if old.flags.writeable:
                    old[...] = new
                return
        raise KernelLost("the student's code changed the shape or dtype of an array argument in place")
    if type(old) is list and type(new) is list:
        for index, item in enumerate(new[:len(old)]):
            if type(old[index]) is np.ndarray and type(item) is np.ndarray \
                    and old[index].shape == item.shape and old[index].dtype == item.dtype:
                old[index][...] = item
            else:
                old[index] = item
        del old[len(new):]
        old.extend(new[len(old):])
    elif type(old) is dict and type(new) is dict:
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, item in new.items():
            current = old.get(key)
            if type(current) is np.ndarray and type(item) is np.ndarray \
                    and current.shape == item.shape and current.dtype == item.dtype:
                current[...] = item
            else:
                old[key] = item
    elif type(old) is set and type(new) is set:
        old.clear()
        old.update(new)
