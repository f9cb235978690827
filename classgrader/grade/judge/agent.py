"""The judge's hands inside the student's kernel: call the student's code, return plain data.

The judge (:mod:`classgrader.grade.judge.session`) runs a hidden test in the trusted grading process.
For each test cell it asks the kernel to run ``serve(address, token)``; ``serve`` connects to the
judge's Unix socket and answers requests until the judge says ``done``:

* ``lookup``: the student's names the test uses (functions and classes come back as references);
* ``call``: call a function or method with arguments the judge sends as data, return the result as
  data, say which arguments the call changed, and which warnings it raised;
* ``getattr``/``setattr``/``op``: attribute access and Python operators on objects that stay here
  (a ``Value`` of the capstone, say); the student's code may in turn read, set (the data
  attributes an instance already has) and operate on the test's objects it was given;
* ``substitute``/``restore``: swap a name of the notebook for a function of the judge while the
  test runs (so one mistake costs one skill).

Nothing here decides anything. This module runs in a process the student controls, so it may be
changed or replaced by the student's code: that only changes the data the judge receives, which the
student's own code could have returned anyway. The expected values, the checks and the hidden test
code never come here.
"""
from __future__ import annotations

import builtins
import socket
import warnings
from typing import Any

import numpy as np

from classgrader.grade.judge import wire
from classgrader.grade.judge.remote import OPERATORS, RemoteObject

#: What the judge may ask of the kernel.
REQUESTS = frozenset({"lookup", "call", "getattr", "setattr", "op", "call_each", "fold", "substitute", "restore"})
#: IPython's own names in the user namespace, never the student's.
SHELL_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "_", "__", "___", "_oh", "_ih", "_dh"})
class JudgePeer:
    """The judge, seen from the kernel: what a :class:`RemoteObject` of the test's needs."""

    def __init__(self, agent: "Agent"):
        self.agent = agent

    def call(self, obj, args: tuple, kwargs: dict):
        codec = self.agent.codec
        return self.agent.ask({"op": "call", "f": codec.encode(obj), "args": codec.encode(list(args)),
                               "kwargs": codec.encode(dict(kwargs))})

    def getattr(self, obj, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return self.agent.ask({"op": "getattr", "obj": self.agent.codec.encode(obj), "name": name})

    def setattr(self, obj, name: str, value) -> None:
        if name.startswith("_"):
            raise AttributeError("the test's objects cannot be changed")
        self.agent.ask({"op": "setattr", "obj": self.agent.codec.encode(obj), "name": name,
                        "value": self.agent.codec.encode(value)})

    def operable(self, obj) -> bool:
        return True

    def op(self, name: str, *operands, keep: bool = False):
        return self.agent.ask({"op": "op", "name": name, "args": self.agent.codec.encode(list(operands))})


class JudgeObject(RemoteObject):
    """A stand-in, in the kernel, for an object of the test's: it behaves like that object."""

    __slots__ = ("_name",)

    def __getattr__(self, name: str):
        if name in ("__name__", "__qualname__"):
            return self._name
        return super().__getattr__(name)

    def __bool__(self) -> bool:
        return bool(self._session.op("bool", self))

    def __float__(self) -> float:
        return self._session.op("float", self)

    def __int__(self) -> int:
        return self._session.op("int", self)

    def __index__(self) -> int:
        return self._session.op("index", self)

    def __complex__(self) -> complex:
        return self._session.op("complex", self)


def describe(error: BaseException) -> dict:
    """An exception as data: its type, its built-in base classes and a short message."""
    bases = [c.__name__ for c in type(error).__mro__ if c.__module__ == "builtins"]
    try:
        message = str(error)[:1000]
    except Exception:  # noqa: BLE001 - a broken __str__
        message = ""
    where = ""
    tb = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if "ipykernel" in filename or filename.startswith("<ipython"):
            where = f"line {tb.tb_lineno} of your cell"
        tb = tb.tb_next
    return {"type": type(error).__name__, "bases": bases, "message": message, "where": where}


class Agent:
    """Answers the judge's requests on one connection (one test cell)."""

    def __init__(self, sock: socket.socket, namespace: dict):
        self.sock, self.namespace = sock, namespace
        self.refs: dict[int, Any] = {}
        self.saved: dict[str, Any] = {}
        self.codec = wire.Codec(self._export, self._resolve, self._identify)
        self._args: dict[int, Any] = {}      # $id key -> argument object of the current call
        self._originals: dict[int, Any] = {}  # $id key -> how the judge sent it
        self.peer = JudgePeer(self)
        self.judge_objects: dict[int, RemoteObject] = {}

    # --- references -------------------------------------------------------------------------

    def _identify(self, value: Any) -> dict | None:
        """A call's own argument (or a view of one) coming back is sent as such, not copied."""
        for key, arg in self._args.items():
            if value is arg:
                return {"$alias": key}
        if type(value) is np.ndarray and self._args:
            return self._view_of_argument(value)
        return None

    def _export(self, value: Any) -> dict:
        if isinstance(value, JudgeObject) and value._session is self.peer:
            return {"$cb": value._id}
        ident = len(self.refs) + 1
        self.refs[ident] = value
        name = value.__name__ if isinstance(value, type) else type(value).__name__
        return {"$ref": [ident, name, callable(value), isinstance(value, type)]}

    def _view_of_argument(self, value: np.ndarray) -> dict | None:
        for key, arg in self._args.items():
            if type(arg) is np.ndarray and arg.flags.c_contiguous and value.dtype == arg.dtype \
                    and value.size and np.shares_memory(value, arg):
                offset = value.__array_interface__["data"][0] - arg.__array_interface__["data"][0]
                return {"$view": [key, list(value.shape), list(value.strides), offset]}
        return None

    def _resolve(self, tag: str, payload: Any) -> Any:
        if tag == "$ref":
            if type(payload) is not int or payload not in self.refs:
                raise wire.WireError("unknown reference")
            return self.refs[payload]
        if tag == "$cb":
            if not (isinstance(payload, list) and len(payload) == 5 and type(payload[0]) is int):
                raise wire.WireError("malformed reference to the test's object")
            ident, type_name, is_callable, is_class, name = payload
            if ident not in self.judge_objects:
                stand_in = JudgeObject(self.peer, ident, str(type_name)[:100], bool(is_callable), bool(is_class))
                object.__setattr__(stand_in, "_name", str(name)[:100])
                self.judge_objects[ident] = stand_in
            return self.judge_objects[ident]
        if tag == "$lib":
            return wire.library_function(payload)
        if tag == "$id":
            key, inner = wire.pair(payload)
            value = self.codec.decode(inner)
            self._args[key] = value
            self._originals[key] = (inner, _members(value))
            return value
        if tag == "$alias":
            if payload not in self._args:
                raise wire.WireError("unknown alias")
            return self._args[payload]
        raise wire.WireError(f"unknown tag {tag!r}")

    # --- the conversation -------------------------------------------------------------------

    def loop(self) -> None:
        """Answer requests until the judge says ``done``."""
        while True:
            message = wire.receive(self.sock)
            if message.get("op") == "done":
                return
            self.reply(self.handle(message))

    def reply(self, answer: dict) -> None:
        """Send a reply; one too large to send becomes an error the test reports."""
        try:
            wire.send(self.sock, answer)
        except wire.WireError as err:
            wire.send(self.sock, {"error": {"type": "MemoryError", "bases": ["MemoryError", "Exception"],
                                            "message": f"the value is too large to send ({err})"}})

    def ask(self, request: dict) -> Any:
        """Send a request to the judge; answer the judge's own requests until its reply comes.

        The arguments of the call under way that the student's code has changed so far go with
        it, so a function of the test's that the code calls sees them as they are now."""
        changed = self._changed() if self._args else []
        for key, now, _ in changed:   # the judge's copies are like this from now on
            self._originals[key] = (now, _members(self._args[key]))
        self.reply({**request, "changed": changed} if changed else request)
        while True:
            message = wire.receive(self.sock)
            if "op" in message:
                self.reply(self.handle(message))
                continue
            if "error" in message:
                raise _rebuild(message["error"])
            return self.codec.decode(message.get("ok"))

    def handle(self, message: dict) -> dict:
        """One request -> its reply (errors in the student's code are replies too)."""
        op = message.get("op")
        handler = getattr(self, f"op_{op}", None) if isinstance(op, str) and op in REQUESTS else None
        if handler is None:
            return {"error": {"type": "WireError", "bases": [], "message": f"unknown request {op!r}"}}
        saved_args, saved_originals = self._args, self._originals
        self._args, self._originals = {}, {}
        try:
            return handler(message)
        except wire.WireError as err:
            return {"error": {"type": "WireError", "bases": [], "message": str(err)}}
        except BaseException as err:  # noqa: BLE001 - the student's code may raise anything
            return {"error": describe(err)}
        finally:
            self._args, self._originals = saved_args, saved_originals

    # --- requests ---------------------------------------------------------------------------

    def op_lookup(self, message: dict) -> dict:
        found = {}
        for name in message.get("names", []):
            if isinstance(name, str) and name in self.namespace and name not in SHELL_NAMES:
                found[name] = self.codec.encode(self.namespace[name])
        return {"ok": found}

    def op_call(self, message: dict) -> dict:
        function = self.codec.decode(message["f"])
        args = self.codec.decode(message.get("args", []))
        kwargs = self.codec.decode(message.get("kwargs", {"$d": []}))
        if type(args) is not list or type(kwargs) is not dict:
            raise wire.WireError("malformed call")
        errstate = message.get("errstate")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if isinstance(errstate, dict):
                with np.errstate(**{k: v for k, v in errstate.items() if k in ("all", "over", "under",
                                                                                 "divide", "invalid")}):
                    result = function(*args, **kwargs)
            else:
                result = function(*args, **kwargs)
        return {"ok": self.codec.encode(result), "changed": self._changed(),
                "warnings": [[w.category.__name__, str(w.message)[:300]] for w in caught[:20]]}

    def _changed(self) -> list:
        """[key, new value, members] of every argument the call changed (content or members)."""
        changed = []
        for key, value in self._args.items():
            outer, self._args = self._args, {}
            try:
                now = self.codec.encode(value)
            finally:
                self._args = outer
            sent, members = self._originals.get(key, (None, None))
            same = _same_members(members, value)
            if now != sent or (same is not None and not _all_kept(same)):
                changed.append([key, now, same])
        return changed

    def op_getattr(self, message: dict) -> dict:
        return {"ok": self.codec.encode(getattr(self.codec.decode(message["obj"]), _name(message)))}

    def op_setattr(self, message: dict) -> dict:
        setattr(self.codec.decode(message["obj"]), _name(message), self.codec.decode(message["value"]))
        return {"ok": None}

    def op_op(self, message: dict) -> dict:
        name = message.get("name")
        function = OPERATORS.get(name) if isinstance(name, str) else None
        if function is None:
            raise wire.WireError(f"unknown operator {message.get('name')!r}")
        operands = self.codec.decode(message.get("args", []))
        result = function(*operands)
        return {"ok": self._export(result) if message.get("keep") is True else self.codec.encode(result)}

    def op_call_each(self, message: dict) -> dict:
        function = self.codec.decode(message["f"])
        rows = self.codec.decode(message.get("rows", []))
        return {"ok": self.codec.encode([function(*row) for row in rows])}

    def op_fold(self, message: dict) -> dict:
        function = self.codec.decode(message["f"])
        value = self.codec.decode(message["start"])
        for item in self.codec.decode(message.get("items", [])):
            value = function(value, item)
        return {"ok": self.codec.encode(value)}

    def op_substitute(self, message: dict) -> dict:
        for name, data in self.codec.decode(message.get("names", {"$d": []})).items():
            if not isinstance(name, str) or not name.isidentifier():
                raise wire.WireError("malformed name")
            if name not in self.saved:
                self.saved[name] = self.namespace.get(name, _MISSING)
            self.namespace[name] = data
        return {"ok": None}

    def op_restore(self, message: dict) -> dict:
        names = message.get("names")
        self.restore([n for n in names if isinstance(n, str)] if isinstance(names, list) else None)
        return {"ok": None}

    def restore(self, names: list[str] | None = None) -> None:
        """Put back the notebook's own values of substituted names (all of them by default)."""
        for name in list(self.saved) if names is None else [n for n in names if n in self.saved]:
            value = self.saved.pop(name)
            if value is _MISSING:
                self.namespace.pop(name, None)
            else:
                self.namespace[name] = value


_MISSING = object()


def _members(value: Any):
    """The element objects of a list or dict argument, to tell later which ones were replaced."""
    if type(value) is list:
        return list(value)
    if type(value) is dict:
        return dict(value)
    return None


def _same_members(members, value: Any):
    """For each element now in a list (value in a dict): the original one it still is, or None."""
    if type(value) is list and type(members) is list:
        return [next((j for j, old in enumerate(members) if old is item), None) for item in value]
    if type(value) is dict and type(members) is dict:
        return [[key, key in members and members[key] is item] for key, item in value.items()]
    return None


def _all_kept(same: list) -> bool:
    if same and isinstance(same[0], list):
        return all(kept for _, kept in same)
    return same == list(range(len(same)))


def _name(message: dict) -> str:
    name = message.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        raise wire.WireError("malformed attribute name")
    return name


def _rebuild(error: Any) -> BaseException:
    """The judge's error in a callback, raised in the student's code as a built-in exception."""
    error = error if isinstance(error, dict) else {}
    kind = getattr(builtins, str(error.get("type")), None)
    if not (isinstance(kind, type) and issubclass(kind, Exception)):
        kind = RuntimeError
    return kind(str(error.get("message", ""))[:1000])


def serve(address: str, token: str) -> None:
    """Connect to the judge at ``address`` and answer its requests until it is done."""
    try:
        from IPython import get_ipython

        namespace = get_ipython().user_ns
    except (ImportError, AttributeError):
        import __main__

        namespace = vars(__main__)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(address)
    agent = Agent(sock, namespace)
    try:
        wire.send(sock, {"hello": token})
        agent.loop()
    finally:
        agent.restore()
        agent.refs.clear()
        sock.close()
