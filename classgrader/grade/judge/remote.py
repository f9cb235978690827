"""Stand-ins, in the judge, for objects that stay in the student's kernel.

A :class:`RemoteObject` is what a hidden test holds when the student's code hands back something
that is not plain data: a function, a class, a ``Value``. Calling it, reading an attribute or
applying an operator asks the kernel (one round trip each) and returns plain data or another
stand-in. ``isinstance(x, Value)`` works when ``Value`` is the stand-in of a class.

The kernel holds the same kind of stand-in for the test's own objects that it receives (a function
to differentiate, a correct ``Dual`` class swapped in, a random generator): there the "session" is
the agent's view of the judge. This module therefore imports nothing but the standard library.
"""
from __future__ import annotations

import operator
from typing import Any

#: Operators one side may apply to the other side's objects, by name.
OPERATORS = {name: getattr(operator, name) for name in (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "neg", "pos", "abs",
    "invert", "lt", "le", "eq", "ne", "gt", "ge", "getitem", "setitem", "delitem", "contains",
    "index", "and_", "or_", "xor", "lshift", "rshift")}
OPERATORS.update(len=len, bool=bool, float=float, int=int, complex=complex, hash=hash,
                 isinstance=isinstance, issubclass=issubclass, callable=callable,
                 repr=lambda o: repr(o)[:2000], str=lambda o: str(o)[:2000],
                 list=lambda o: list(_limited(iter(o))), type_name=lambda o: type(o).__name__)
#: Operators that change the object they apply to (never allowed on the test's own objects).
MUTATING = frozenset({"setitem", "delitem"})
_MAX_ITEMS = 1_000_000


def _limited(iterator):
    for count, item in enumerate(iterator):
        if count >= _MAX_ITEMS:
            raise ValueError(f"more than {_MAX_ITEMS} items")
        yield item


class RemoteObject:
    """An object of the student's kernel, seen from the judge."""

    __slots__ = ("_session", "_id", "_type", "_callable", "_is_class")

    def __init__(self, session, ident: int, type_name: str, is_callable: bool, is_class: bool):
        for name, value in zip(RemoteObject.__slots__, (session, ident, type_name, is_callable, is_class)):
            object.__setattr__(self, name, value)

    def __call__(self, *args, **kwargs):
        return self._session.call(self, args, kwargs)

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._session.getattr(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._session.setattr(self, name, value)

    def __instancecheck__(self, instance: Any) -> bool:
        return isinstance(instance, RemoteObject) and bool(self._session.op("isinstance", instance, self))

    def __subclasscheck__(self, cls: Any) -> bool:
        return isinstance(cls, RemoteObject) and bool(self._session.op("issubclass", cls, self))

    def __hash__(self) -> int:
        return hash((id(self._session), self._id))

    def __repr__(self) -> str:
        return self._session.op("repr", self)

    def __str__(self) -> str:
        return self._session.op("str", self)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __bool__(self) -> bool:
        raise TypeError(_NOT_A_VERDICT.format(what="truth value", name=self._type))

    def __len__(self) -> int:
        return self._session.op("len", self)

    def __iter__(self):
        return iter(self._session.op("list", self))

    def __contains__(self, item: Any) -> bool:
        return self._session.op("contains", self, item) is True

    def __getitem__(self, key: Any):
        return self._session.op("getitem", self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._session.op("setitem", self, key, value)

    def __delitem__(self, key: Any) -> None:
        self._session.op("delitem", self, key)

    def __float__(self) -> float:
        raise TypeError(_NOT_A_VERDICT.format(what="float()", name=self._type))

    def __int__(self) -> int:
        raise TypeError(_NOT_A_VERDICT.format(what="int()", name=self._type))

    def __index__(self) -> int:
        raise TypeError(_NOT_A_VERDICT.format(what="an index", name=self._type))

    def __complex__(self) -> complex:
        raise TypeError(_NOT_A_VERDICT.format(what="complex()", name=self._type))


#: Why a stand-in cannot be turned into a number or a truth value by the judge: the answer would
#: be the student's code's own choice. Checks read data through attributes and classgrader.checks.
_NOT_A_VERDICT = ("an object of type {name} from the student's code has no {what} the test may "
                  "rely on; check it with classgrader.checks (result_float, result_array) or read "
                  "its data attributes")


def _operable(*operands: Any) -> None:
    """Operators apply only to objects of classes the test itself works with (``Value``, say).

    A test that computed with the raw result of a student's function (``abs(got - expected)``)
    would send its expected value to the kernel: for any other stand-in that is an error.
    """
    for operand in operands:
        if isinstance(operand, RemoteObject) and not operand._session.operable(operand):
            raise TypeError(_NOT_A_VERDICT.format(what="arithmetic", name=operand._type))


def _binary(name: str):
    """The operator ``name`` on a stand-in: applied in the kernel, its result stays a stand-in."""
    def forward(self, other):
        _operable(self, other)
        return self._session.op(name, self, other, keep=True)

    def reflected(self, other):
        _operable(self, other)
        return self._session.op(name, other, self, keep=True)

    return forward, reflected


def _unary(name: str):
    def apply(self):
        _operable(self)
        return self._session.op(name, self, keep=True)

    return apply


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
              "lshift", "rshift"):
    _forward, _reflected = _binary(_name + "_" if _name in ("and", "or") else _name)
    setattr(RemoteObject, f"__{_name}__", _forward)
    setattr(RemoteObject, f"__r{_name}__", _reflected)
for _name in ("lt", "le", "eq", "ne", "gt", "ge"):
    setattr(RemoteObject, f"__{_name}__", _binary(_name)[0])
for _name in ("neg", "pos", "abs", "invert"):
    setattr(RemoteObject, f"__{_name}__", _unary(_name))


def type_name(value: Any) -> str:
    """The name of a value's type, for a message: the student's type for a remote object."""
    if isinstance(value, RemoteObject):
        return object.__getattribute__(value, "_type")
    return type(value).__name__


def is_remote(value: Any) -> bool:
    return isinstance(value, RemoteObject)
