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
import ctypes
import resource
import socket
import threading
import time
import types
from typing import Any, Iterator

import numpy as np

from classgrader.grade.judge import wire
from classgrader.grade.judge.remote import MUTATING, OPERATORS, RemoteObject

#: Types of arguments whose identity and in-place changes the judge keeps track of.
MUTABLE = (np.ndarray, list, dict, set, np.random.Generator)
#: Where the test's classes and objects that the kernel may hold come from (top-level module
#: names): the test cell itself, numpy (a class such as a dtype; arrays and random generators
#: travel by value instead), and the reference package (a correct class swapped in). Plain
#: functions may come from anywhere: the kernel can only call them.
SHAREABLE_MODULES = frozenset({"__judge__", "numpy", "solutions"})
#: What the kernel may ask of the judge about the test's objects.
KERNEL_REQUESTS = frozenset({"call", "getattr", "setattr", "op"})
#: How much the grading process may grow, per test cell, while the test's code runs at the
#: kernel's request (a student's arguments must not make the grader allocate without bound).
SERVE_MEMORY_BUDGET = 1 << 30

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


class ServedTooLong(OutOfTime):
    """The test's code, run at the request of the student's code, was still running at the deadline
    (raised in the serving thread by :class:`Watchdog`, which can pass no arguments)."""

    def __init__(self, reason: str = "the test's code that your code called did not finish in time"):
        super().__init__(reason)


class Watchdog:
    """Ends the test's code that runs at the kernel's request when the test's time is up.

    The student's code can call the test's functions and classes with arguments of its choosing
    (``MLP(2, [10**5] * 100, rng)`` on a class the test swapped in): that work runs in the grading
    process, which no socket timeout reaches. While armed, one daemon thread (per process) raises
    :class:`ServedTooLong` in the serving thread at the deadline, between two bytecodes.

    The serving thread takes no lock here (an exception arriving just after it took one would
    leave the lock held and the watchdog jammed for the rest of the process): arming and disarming
    are single assignments, and the watchdog thread polls every :attr:`tick` seconds.
    """

    tick = 0.02

    def __init__(self):
        self._armed: tuple[int, float] | None = None
        self._fired: int | None = None
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float) -> None:
        """Watch the calling thread until :meth:`disarm`, raising in it at ``deadline``."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._watch, name="judge-watchdog", daemon=True)
            self._thread.start()
        self._armed = (threading.get_ident(), deadline)

    def disarm(self) -> None:
        """Stop watching; an exception sent but not yet raised is taken back."""
        self._armed = None
        if self._fired is not None:
            self._fired = None
            take_back_pending_exception()

    def _watch(self) -> None:
        while True:
            time.sleep(self.tick)
            armed = self._armed
            if armed is not None and time.monotonic() >= armed[1] and self._armed is armed:
                self._armed, self._fired = None, armed[0]
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(armed[0]), ctypes.py_object(ServedTooLong))


def take_back_pending_exception() -> None:
    """Take back a watchdog exception sent to this thread and not raised yet (if any)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(threading.get_ident()), None)


def _address_space() -> int:
    """Bytes of address space this process uses now (Linux), or 0 where that cannot be read."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


@contextlib.contextmanager
def memory_ceiling(ceiling: int) -> Iterator[None]:
    """Let this process grow to ``ceiling`` bytes of address space, no further, while the block runs
    (an allocation beyond it raises MemoryError; no limit where the size cannot be read)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = max(ceiling, _address_space())
    if not ceiling or (soft != resource.RLIM_INFINITY and limit >= soft):
        yield   # no ceiling to set, or a lower one is set already (`ulimit -v`)
        return
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


_WATCHDOG = Watchdog()


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


def _same_kind(old: Any, new: Any, name: str) -> Any:
    """``new`` as a value of the kind ``old`` is, for setting ``name`` on the test's instance: a
    number stays a number of the same type, an array keeps its shape and dtype, anything else its
    type (a parameter's ``data`` cannot become a matrix that the test's own operators then build)."""
    if isinstance(old, (int, float)) and not isinstance(old, bool):
        if isinstance(new, (int, float, np.integer, np.floating)) and not isinstance(new, (bool, np.bool_)):
            return type(old)(new)
    elif isinstance(old, np.ndarray):
        if isinstance(new, np.ndarray) and new.shape == old.shape and np.can_cast(new.dtype, old.dtype, "same_kind"):
            return new.astype(old.dtype)
    elif type(new) is type(old):
        return new
    raise TypeError(f"{name} of the test's object is a {type(old).__name__}; it cannot be set to a "
                    f"{type(new).__name__}" + (f" of shape {new.shape}" if isinstance(new, np.ndarray) else ""))


class Session:
    """One test cell's connection to the kernel, with its deadline."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock, self.deadline = sock, deadline
        self.named_classes: set[str] = set()       # the student's classes the test works with
        self.shared: dict[int, Any] = {}          # the test's objects the kernel holds, by id
        self._shared_ids: dict[int, int] = {}      # id() of such an object -> its id
        self.watching: list | None = None     # warnings of calls, while a check watches them
        self.codec = wire.Codec(self._export, self._resolve)
        self._call_args: dict[int, Any] = {}
        self.calls = 0
        self._serving = 0     # > 0 while the test's code runs at the request of the kernel
        used = _address_space()
        self._memory_ceiling = used + SERVE_MEMORY_BUDGET if used else 0

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
            message = wire.receive(self.sock, deadline=self.deadline)
            self.codec.budget = wire.MAX_ITEMS
            return message
        except (socket.timeout, TimeoutError):
            raise OutOfTime("your code did not finish in time") from None
        except EOFError:
            raise KernelLost("the kernel closed the connection (did it crash or exit?)") from None
        except (OSError, wire.WireError) as err:
            raise KernelLost(f"the kernel sent something that is not a valid answer ({err})") from None

    def request(self, message: dict) -> dict:
        """Send a request; answer the kernel's requests about the test's objects until the reply."""
        self.calls += 1
        self._send(message)
        while True:
            reply = self._receive()
            if "op" in reply:
                # the arguments as the student's code has changed them so far (x[i] += h, then f(x))
                self._apply_changes(reply.get("changed", []))
                self._send(self._serve(reply))
                continue
            if "error" in reply:
                error = reply["error"]
                if isinstance(error, dict) and error.get("type") == "WireError":
                    raise KernelLost(f"the kernel could not read a request: {str(error.get('message'))[:200]}")
                raise student_exception(error)
            if "ok" not in reply:
                raise KernelLost("the kernel sent a reply without a value")
            return reply

    def _serve(self, message: dict) -> dict:
        """A request of the student's code about one of the test's objects (a call, say)."""
        op = message.get("op")
        if not isinstance(op, str) or op not in KERNEL_REQUESTS:
            raise KernelLost(f"unexpected request {str(op)[:40]!r} from the kernel")
        if not self._serving:
            _WATCHDOG.arm(self.deadline)
        self._serving += 1
        try:
            with memory_ceiling(self._memory_ceiling):
                return {"ok": self.codec.encode(self._perform(op, message))}
        except JudgeStop:
            raise
        except wire.WireError as err:
            raise KernelLost(f"a malformed request from the kernel ({err})") from None
        except Exception as err:  # noqa: BLE001 - passed on to the student's code
            # Only the type crosses: a message could quote what the test expects.
            return {"error": {"type": type(err).__name__, "message": "raised by the test's function"}}
        finally:
            self._serving -= 1
            if not self._serving:
                _WATCHDOG.disarm()

    def _perform(self, op: str, message: dict) -> Any:
        if op == "op":
            name = message.get("name")
            if not isinstance(name, str) or name not in OPERATORS or name in MUTATING:
                raise wire.WireError(f"operator {str(name)[:40]!r} is not allowed on the test's objects")
            operands = self._decode_list(message.get("args", []))
            if not any(id(v) in self._shared_ids for v in operands):
                raise wire.WireError("an operator request that involves none of the test's objects")
            return OPERATORS[name](*operands)
        target = self.codec.decode(message.get("f" if op == "call" else "obj"))
        if id(target) not in self._shared_ids:
            raise wire.WireError("a request about something the kernel was never given")
        if op in ("getattr", "setattr"):
            name = message.get("name")
            if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
                raise AttributeError(name)
            if op == "getattr":
                return getattr(target, name)
            return self._set_data(target, name, self._decode(message.get("value")))
        args = self._decode_list(message.get("args", []))
        kwargs = self.codec.decode(message.get("kwargs", {"$d": []}))
        if type(kwargs) is not dict or not all(isinstance(k, str) for k in kwargs):
            raise wire.WireError("malformed keyword arguments")
        return target(*args, **kwargs)

    @staticmethod
    def _set_data(target: Any, name: str, value: Any) -> None:
        """Set a data attribute an instance of the test's already has (``p.data -= lr * p.grad`` on
        a parameter the test passed in). Classes, functions and behaviour never change: what the
        student's code sets is its answer, read back by the test like a returned value."""
        own = getattr(target, "__dict__", None)
        if isinstance(target, (type, types.FunctionType, types.MethodType)) or not isinstance(own, dict) \
                or name not in own or callable(own[name]):
            raise AttributeError(f"{name} cannot be set on the test's {type(target).__name__}")
        setattr(target, name, _same_kind(own[name], value, name))

    def _decode(self, data: Any) -> Any:
        """Data from the kernel; anything malformed ends the conversation (never a test's except)."""
        try:
            return self.codec.decode(data)
        except (wire.WireError, RecursionError, ValueError, TypeError) as err:
            raise KernelLost(f"the kernel sent a malformed value ({str(err)[:100]})") from None

    def _decode_list(self, data: Any) -> list:
        values = self.codec.decode(data)
        if type(values) is not list:
            raise wire.WireError("malformed arguments")
        return values

    # --- values -----------------------------------------------------------------------------

    def _export(self, value: Any) -> dict:
        if isinstance(value, RemoteObject):
            return {"$ref": value._id}
        name = wire.library_name(value) if callable(value) else None
        if name:
            return {"$lib": name}
        if not shareable(value):
            raise TypeError(f"a {type(value).__name__} cannot be passed to the student's code; pass plain "
                            "data (numbers, numpy arrays, strings, containers), functions or objects of the test")
        ident = self._shared_ids.get(id(value))
        if ident is None:
            ident = self._shared_ids[id(value)] = len(self.shared) + 1
            self.shared[ident] = value
        name = getattr(value, "__name__", type(value).__name__) if callable(value) else type(value).__name__
        return {"$cb": [ident, type(value).__name__, callable(value), isinstance(value, type), str(name)]}

    def _resolve(self, tag: str, payload: Any) -> Any:
        if tag == "$ref":
            if not (isinstance(payload, list) and len(payload) == 4 and type(payload[0]) is int):
                raise wire.WireError("malformed reference")
            ident, type_name, is_callable, is_class = payload
            return RemoteObject(self, ident, str(type_name)[:100], bool(is_callable), bool(is_class))
        if tag == "$cb":
            if type(payload) is not int or payload not in self.shared:
                raise wire.WireError("unknown reference to the test's object")
            return self.shared[payload]
        if tag == "$alias":
            if payload not in self._call_args:
                raise wire.WireError("unknown argument")
            return self._call_args[payload]
        if tag == "$view":
            return self._view(payload)
        if tag == "$member":
            key, index = wire.pair(payload)
            outer = self._call_args.get(key) if type(key) is int else None
            if type(outer) is not list or type(index) is not int or not 0 <= index < len(outer):
                raise wire.WireError("unknown entry of an argument")
            return outer[index]
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
        """The student's values of ``names`` that exist in the notebook (never any other name)."""
        found = self.request({"op": "lookup", "names": names})["ok"]
        if not isinstance(found, dict):
            raise KernelLost("malformed lookup reply")
        values = {name: self._decode(found[name]) for name in names if name in found}
        self.named_classes |= {v._type for v in values.values() if isinstance(v, RemoteObject) and v._is_class}
        return values

    def operable(self, obj: RemoteObject) -> bool:
        """May the test apply operators to this object (an instance of a class it named)?

        Only the test's own code, driving: never while the test's code runs at the kernel's
        request (a callback, a swapped-in reference solution, a method of the test's object).
        There an operator would be answered by the kernel, which could record every operation
        and so trace the reference solution or the test's hidden function; and whether an object
        is "an instance of a class the test named" is the kernel's own claim.
        """
        return not self._serving and obj._type in self.named_classes

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
            result = self._decode(reply.get("ok"))
            self._apply_changes(reply.get("changed", []))
            self._note_warnings(reply.get("warnings", []))
            return result
        finally:
            self._call_args = outer

    def _apply_changes(self, changed: Any) -> None:
        for item in changed if isinstance(changed, list) else []:
            if not (isinstance(item, list) and len(item) == 3):
                raise KernelLost("the kernel sent a malformed report of changed arguments")
            key, data, same = item
            if isinstance(key, int) and key in self._call_args:
                update_in_place(self._call_args[key], self._decode(data), same)

    def _note_warnings(self, caught: Any) -> None:
        if self.watching is None or not isinstance(caught, list):
            return
        for item in caught[:20]:
            if isinstance(item, list) and len(item) == 2:
                self.watching.append((str(item[0])[:60], str(item[1])[:300]))

    def getattr(self, obj: RemoteObject, name: str) -> Any:
        return self._decode(self.request({"op": "getattr", "obj": self.codec.encode(obj),
                                          "name": name}).get("ok"))

    def setattr(self, obj: RemoteObject, name: str, value: Any) -> None:
        self.request({"op": "setattr", "obj": self.codec.encode(obj), "name": name,
                      "value": self.codec.encode(value)})

    def op(self, name: str, *operands: Any, keep: bool = False) -> Any:
        """Apply an operator in the kernel; with ``keep`` the result stays there (a stand-in)."""
        message = {"op": "op", "name": name, "args": self.codec.encode(list(operands))}
        if keep:
            message["keep"] = True
        result = self._decode(self.request(message).get("ok"))
        if keep and not isinstance(result, RemoteObject) and id(result) not in self._shared_ids:
            raise KernelLost("the kernel answered an operator on its object with plain data")
        return result

    def call_each(self, function: Any, rows: list) -> list:
        """``[function(*row) for row in rows]`` in the kernel, in one round trip."""
        return self._decode(self.request({"op": "call_each", "f": self.codec.encode(function),
                                          "rows": self.codec.encode([list(r) for r in rows])}).get("ok"))

    def fold(self, function: Any, start: Any, items: list) -> Any:
        """``functools.reduce(function, items, start)`` in the kernel, in one round trip."""
        return self._decode(self.request({"op": "fold", "f": self.codec.encode(function),
                                          "start": self.codec.encode(start),
                                          "items": self.codec.encode(list(items))}).get("ok"))

    @contextlib.contextmanager
    def substitute(self, namespace: dict, replacements: dict) -> Iterator[None]:
        """Swap names in the notebook (and in the test's namespace) for the test's own values."""
        self.request({"op": "substitute", "names": self.codec.encode(dict(replacements))})
        try:
            with swapped(namespace, replacements):
                yield
        finally:
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


def shareable(value: Any) -> bool:
    """May the kernel hold a reference to this object of the judge's (see SHAREABLE_MODULES)?"""
    if isinstance(value, types.ModuleType):
        return False
    if isinstance(value, types.FunctionType):
        return True
    owner = getattr(value, "__self__", None)
    if isinstance(value, (types.MethodType, types.BuiltinMethodType)) and owner is not None \
            and not isinstance(owner, types.ModuleType):
        value = owner
    module = getattr(value, "__module__", None) if isinstance(value, (type, types.FunctionType)) \
        else type(value).__module__
    return isinstance(module, str) and module.split(".")[0] in SHAREABLE_MODULES


@contextlib.contextmanager
def swapped(namespace: dict, replacements: dict) -> Iterator[None]:
    """Replace names in a namespace while the block runs, then put back what was there."""
    missing = object()
    saved = {name: namespace.get(name, missing) for name in replacements}
    namespace.update(replacements)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def update_in_place(old: Any, new: Any, same: Any = None) -> None:
    """Make ``old`` (the test's argument) look like ``new`` (the same argument after the call).

    ``same`` says, for a list, which original element each element still is (an index or None)
    and, for a dict, whether each key still holds its original value: those keep their identity
    (their contents updated), the others are the new objects.
    """
    if type(old) is np.ndarray and type(new) is np.ndarray:
        _update_array(old, new)
    elif type(old) is list and type(new) is list:
        originals = list(old)
        kept = same if isinstance(same, list) and len(same) == len(new) else [None] * len(new)
        old[:] = [_kept(originals, j, item) for j, item in zip(kept, new)]
    elif type(old) is dict and type(new) is dict:
        kept = dict(p for p in same if isinstance(p, list) and len(p) == 2) if isinstance(same, list) else {}
        originals = dict(old)
        old.clear()
        for key, item in new.items():
            old[key] = _kept(originals, key, item) if kept.get(key) is True and key in originals else item
    elif type(old) is set and type(new) is set:
        old.clear()
        old.update(new)
    elif type(old) is np.random.Generator and type(new) is np.random.Generator:
        if type(old.bit_generator) is not type(new.bit_generator):
            raise KernelLost("the kernel sent back another kind of random generator")
        old.bit_generator.state = new.bit_generator.state   # the draws the student's code made


def _kept(originals, where, item: Any) -> Any:
    """The original element at ``where`` with ``item``'s contents, or ``item`` itself."""
    if where is None or (isinstance(originals, list) and not (isinstance(where, int) and 0 <= where < len(originals))):
        return item
    original = originals[where]
    if type(original) is np.ndarray and type(item) is np.ndarray:
        _update_array(original, item)
        return original
    if type(original) in (list, dict) and type(item) is type(original):
        update_in_place(original, item)
        return original
    return item


def _update_array(old: np.ndarray, new: np.ndarray) -> None:
    if old.dtype != new.dtype or old.size != new.size:
        raise KernelLost("the student's code changed the shape or dtype of an array argument in place")
    if old.shape != new.shape:
        with contextlib.suppress(AttributeError, ValueError):
            old.shape = new.shape
    if old.shape == new.shape and old.flags.writeable:
        old[...] = new
