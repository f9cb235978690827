"""The judge's conversation with the kernel's agent, end to end over a real Unix socket pair.

The agent runs in a thread on one end with a namespace standing for the notebook's; the judge's
:class:`Session` holds the other end. No kernel is needed, so every property of the protocol is
checked quickly: plain data arrives with its exact types, arguments changed in place are changed
for the test too, identities and views survive, callbacks and exceptions cross in both
directions, and whatever the other end sends, the judge only ever gets data or stops.
"""
from __future__ import annotations

import resource
import socket
import threading
import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from classgrader.grade.judge import wire
from classgrader.grade.judge.agent import Agent
from classgrader.grade.judge.remote import RemoteObject, type_name
from classgrader.grade.judge.session import KernelLost, Session, StudentRaised, OutOfTime

STUDENT = '''
import numpy as np

def identity(x):
    return x

def shift_and_back(x, h=0.3):
    x -= h
    x += h
    return 0.0

def scale_in_place(x):
    x *= 2
    return None

def first_view(x):
    return x[1:]

def append_one(items):
    items.append(1)

def fill_dict(d):
    d["W"][0, 0] = 99.0
    d["new"] = 1

def apply(f, x):
    return f(x) + 1

def apply_twice(f, g, x):
    return f(g(x))

def raise_value_error():
    raise ValueError("bad input 42")

class MyKeyError(KeyError):
    pass

def raise_custom():
    raise MyKeyError("custom")

def leave():
    raise SystemExit(3)

def overflow(x):
    return np.exp(x)

def caller_of_helper(x):
    return helper(x) * 10

def helper(x):
    return x + 1

class AlwaysEqual(float):
    def __eq__(self, other):
        return True

def always_equal():
    return AlwaysEqual(1.0)

class Counter:
    def __init__(self, start):
        self.value = float(start)
    def __add__(self, other):
        return Counter(self.value + (other.value if isinstance(other, Counter) else other))
    __radd__ = __add__
    def bump(self):
        self.value += 1
        return self

def make_counters(n):
    return [Counter(i) for i in range(n)]

def seeded_with(make, value):
    x = make(value, 1.0)
    y = 2 * x + x * x
    return [isinstance(y, make), y.value, y.deriv]

def draws(rng, n):
    return rng.normal(0.0, 1.0, size=n)

def peek(obj):
    return obj._secret

def bump_and_ask(f, x, items):
    x[0] += 1.0
    items.append(7)
    seen = f(x, items)
    x[0] -= 1.0
    return seen

def as_float_arrays(grads):
    return [np.asarray(g, dtype=np.float64) for g in grads]

def nudge(obj, step):
    obj.value -= step
    return obj.value

def set_attribute(obj, name, value):
    setattr(obj, name, value)

def ask_judge_to_compute(obj):
    return pow(10, 10)
'''


@pytest.fixture
def pair():
    """(session, namespace): an agent serving a fresh student namespace on a socket pair."""
    judge_end, kernel_end = socket.socketpair()
    namespace: dict = {}
    exec(STUDENT, namespace)  # noqa: S102 - the test's own stand-in for a notebook
    agent = Agent(kernel_end, namespace)
    thread = threading.Thread(target=_serve, args=(agent,), daemon=True)
    thread.start()
    session = Session(judge_end, time.monotonic() + 30)
    yield session, namespace
    try:
        wire.send(judge_end, {"op": "done"})
    except OSError:
        pass
    thread.join(timeout=5)
    judge_end.close()


def _serve(agent: Agent) -> None:
    try:
        agent.loop()
    except (EOFError, OSError):
        pass
    finally:
        agent.restore()


def student(session: Session, name: str):
    return session.lookup([name])[name]


plain_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.complex_numbers(allow_nan=False) | st.binary(max_size=20)
    | hnp.arrays(st.sampled_from([np.float64, np.int64, np.bool_, np.float32, np.complex128, np.uint8]),
                 hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
    | hnp.from_dtype(np.dtype(np.float64), allow_nan=False),
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=12)


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if type(a) is np.ndarray:
        return a.dtype == b.dtype and a.shape == b.shape and \
            np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


@settings(max_examples=60, deadline=None)
@given(value=plain_values)
def test_plain_data_arrives_with_its_exact_type(value):
    judge_end, kernel_end = socket.socketpair()
    namespace = {"identity_copy": lambda x: x}
    agent = Agent(kernel_end, namespace)
    thread = threading.Thread(target=_serve, args=(agent,), daemon=True)
    thread.start()
    try:
        session = Session(judge_end, time.monotonic() + 30)
        echo = session.lookup(["identity_copy"])["identity_copy"]
        got = echo(value)
        if type(value) in (list, dict, np.ndarray):
            assert got is value, "an argument returned as it is must be the caller's own object"
        else:
            assert _same(got, value), (value, got)
    finally:
        wire.send(judge_end, {"op": "done"})
        thread.join(timeout=5)
        judge_end.close()


def test_round_off_from_shifting_an_argument_and_back_is_seen(pair):
    session, _ = pair
    x = np.random.default_rng(0).uniform(-3, 3, 50)
    before = x.copy()
    student(session, "shift_and_back")(x)
    assert not np.array_equal(x, before), "x -= h; x += h leaves round-off that the test must see"


def test_in_place_changes_reach_the_tests_objects(pair):
    session, _ = pair
    x = np.arange(3.0)
    alias = x[:]
    student(session, "scale_in_place")(x)
    np.testing.assert_array_equal(alias, [0.0, 2.0, 4.0])
    items = [5]
    student(session, "append_one")(items)
    assert items == [5, 1]
    weights = np.zeros((2, 2))
    params = {"W": weights}
    student(session, "fill_dict")(params)
    assert weights[0, 0] == 99.0 and params["W"] is weights and params["new"] == 1


def test_a_returned_view_shares_the_arguments_memory(pair):
    session, _ = pair
    x = np.arange(5.0)
    view = student(session, "first_view")(x)
    assert np.shares_memory(view, x)
    np.testing.assert_array_equal(view, [1.0, 2.0, 3.0, 4.0])


def test_callbacks_run_in_the_judge_and_can_nest(pair):
    session, _ = pair
    seen = []

    def square(v):
        seen.append(v)
        return v * v

    assert student(session, "apply")(square, 3.0) == 10.0
    assert seen == [3.0]
    assert student(session, "apply_twice")(np.sin, square, 2.0) == pytest.approx(np.sin(4.0))
    helper = student(session, "helper")
    # A judge function that itself calls back into the kernel while the kernel waits for it.
    assert student(session, "apply")(lambda v: helper(v) * 2, 1.0) == 5.0


def test_student_exceptions_become_catchable_builtin_types(pair):
    session, _ = pair
    with pytest.raises(ValueError) as caught:
        student(session, "raise_value_error")()
    assert isinstance(caught.value, StudentRaised) and caught.value.student_type == "ValueError"
    with pytest.raises(KeyError) as custom:
        student(session, "raise_custom")()
    assert custom.value.student_type == "MyKeyError"
    with pytest.raises(Exception) as leaving:
        student(session, "leave")()
    assert isinstance(leaving.value, StudentRaised) and not isinstance(leaving.value, SystemExit)


def test_the_tests_errors_reach_the_student_without_their_message(pair):
    session, _ = pair

    def failing(v):
        raise AssertionError("expected 12.01, the secret answer")

    with pytest.raises(AssertionError) as caught:
        student(session, "apply")(failing, 1.0)
    assert isinstance(caught.value, StudentRaised)
    assert "12.01" not in str(caught.value)


def test_objects_that_pretend_to_be_numbers_stay_strangers(pair):
    session, _ = pair
    value = student(session, "always_equal")()
    assert isinstance(value, RemoteObject) and type_name(value) == "AlwaysEqual"
    assert type(value) is not float


def test_remote_objects_support_attributes_methods_and_operators(pair):
    session, _ = pair
    counter_class = student(session, "Counter")
    c = counter_class(2)
    assert isinstance(c, counter_class)
    assert c.value == 2.0
    total = 1 + c + c
    assert isinstance(total, RemoteObject) and total.value == 5.0
    assert c.bump().value == 3.0
    c.value = 7.5
    assert c.value == 7.5
    counters = student(session, "make_counters")(3)
    assert [k.value for k in counters] == [0.0, 1.0, 2.0]


def test_substitute_swaps_a_name_for_a_judge_function_and_restores_it(pair):
    session, namespace = pair
    original = namespace["helper"]
    judge_namespace: dict = {}
    with session.substitute(judge_namespace, {"helper": lambda x: x - 1}):
        assert student(session, "caller_of_helper")(5) == 40
        assert namespace["helper"] is not original
    assert student(session, "caller_of_helper")(5) == 60


def test_watched_calls_report_the_students_warnings(pair):
    session, _ = pair
    overflow = student(session, "overflow")
    with session.watch_warnings() as caught:
        result = overflow(1000.0)
    assert result == np.inf and caught and caught[0][0] == "RuntimeWarning"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        overflow(1000.0)   # unwatched: nothing is re-raised in the judge


def test_library_functions_travel_by_name_and_only_from_the_judge():
    assert wire.library_name(np.sin) == "numpy.sin"
    assert wire.library_name(abs) == "builtins.abs"
    session = Session(socket.socketpair()[0], time.monotonic() + 1)
    with pytest.raises(wire.WireError):
        session.codec.decode({"$lib": "builtins.eval"})


def test_a_silent_kernel_runs_out_of_time():
    judge_end, _kernel_end = socket.socketpair()
    session = Session(judge_end, time.monotonic() + 0.3)
    with pytest.raises(OutOfTime):
        session.lookup(["anything"])


GARBAGE = [
    b"\x00\x00\x00\x00\x00\x00\x00\x05hello",                     # not JSON
    b"\xff\xff\xff\xff\xff\xff\xff\xff",                          # absurd length
    wire._HEADER.pack(2) + b"[]",                                   # not an object
]


@pytest.mark.parametrize("raw", GARBAGE)
def test_malformed_bytes_stop_the_conversation(raw):
    judge_end, kernel_end = socket.socketpair()
    session = Session(judge_end, time.monotonic() + 5)

    def reply():
        wire.receive(kernel_end)
        kernel_end.sendall(raw)

    threading.Thread(target=reply, daemon=True).start()
    with pytest.raises(KernelLost):
        session.lookup(["x"])


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.none() | st.integers() | st.text(max_size=8) | st.floats(),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(
                        st.sampled_from(["ok", "error", "op", "$ref", "$cb", "$a", "$n", "$t", "$d",
                                         "$view", "$alias", "$lib", "type", "bases", "id", "x",
                                         "changed", "warnings", "f", "args", "name"]), c,
                        max_size=3), max_leaves=10))
def test_any_reply_gives_data_a_student_error_or_a_stop(reply):
    """Whatever a hostile kernel answers, the judge gets plain data, a student error or a stop."""
    judge_end, kernel_end = socket.socketpair()
    session = Session(judge_end, time.monotonic() + 5)

    def answer():
        try:
            wire.receive(kernel_end)
            wire.send(kernel_end, reply if isinstance(reply, dict) else {"ok": reply})
        except (OSError, EOFError):
            pass

    threading.Thread(target=answer, daemon=True).start()
    function = RemoteObject(session, 1, "function", True, False)
    try:
        session.call(function, (np.ones(2), [np.zeros(1)], {"k": 1}), {})
    except (KernelLost, OutOfTime):
        pass
    except StudentRaised:
        pass
    finally:
        judge_end.close()
        kernel_end.close()


class Pair:
    """A class of the test's (like a correct Dual swapped in) used by the student's code."""

    def __init__(self, value, deriv=0.0):
        self.value, self.deriv = float(value), float(deriv)
        self._secret = "expected 12.01"

    def __add__(self, other):
        other = other if isinstance(other, Pair) else Pair(other)
        return Pair(self.value + other.value, self.deriv + other.deriv)

    __radd__ = __add__

    def __mul__(self, other):
        other = other if isinstance(other, Pair) else Pair(other)
        return Pair(self.value * other.value, self.deriv * other.value + self.value * other.deriv)

    __rmul__ = __mul__


Pair.__module__ = "__judge__"   # as if defined in a test cell (the judge runs cells as __judge__)


def test_the_student_code_can_use_the_tests_own_classes_and_generators(pair):
    session, _ = pair
    is_pair, value, deriv = student(session, "seeded_with")(Pair, 3.0)
    assert is_pair is True and value == 15.0 and deriv == 8.0
    expected = np.random.default_rng(7).normal(0.0, 1.0, size=4)
    rng = np.random.default_rng(7)
    np.testing.assert_array_equal(student(session, "draws")(rng, 4), expected)
    assert rng.bit_generator.state != np.random.default_rng(7).bit_generator.state, "the test's generator advanced"


def test_the_student_code_cannot_reach_inside_the_tests_objects(pair):
    session, _ = pair
    with pytest.raises(AttributeError):
        student(session, "peek")(Pair(1.0))
    with pytest.raises(TypeError):
        student(session, "apply")(lambda f: f, sys_module_stand_in())


def test_a_callback_sees_the_arguments_as_the_students_code_left_them(pair):
    session, _ = pair
    x, items = np.array([5.0, 0.0]), [1]
    seen = student(session, "bump_and_ask")(lambda v, i: [v is x, float(v[0]), i is items, list(i)], x, items)
    assert seen == [True, 6.0, True, [1, 7]], "the test's function saw the arguments as they were sent"
    assert x.tolist() == [5.0, 0.0] and items == [1, 7]


def test_entries_of_a_list_argument_come_back_as_themselves(pair):
    session, _ = pair
    grads = [np.ones(3), np.arange(4), np.zeros((2, 2))]
    out = student(session, "as_float_arrays")(grads)
    assert [o is g for o, g in zip(out, grads)] == [True, False, True]
    np.testing.assert_array_equal(out[1], [0.0, 1.0, 2.0, 3.0])


def test_the_student_code_sets_only_existing_public_attributes_of_the_tests_instances(pair):
    session, _ = pair
    p = Pair(1.0, 2.0)
    assert student(session, "nudge")(p, 0.25) == 0.75 and p.value == 0.75
    for obj, name in [(p, "extra"), (p, "_secret"), (Pair, "value"), (Pair, "__add__"), (p.__add__, "x")]:
        with pytest.raises(AttributeError):
            student(session, "set_attribute")(obj, name, 0.0)
    assert p._secret == "expected 12.01" and "value" not in vars(Pair) and "extra" not in vars(p)


def sys_module_stand_in():
    import os
    return os


def test_replaced_list_entries_are_new_objects_for_the_test(pair):
    session, namespace = pair
    exec("def replace_entries(items):\n    items[0] = items[0] * 2\n    return None\n"
         "def scale_entries(items):\n    for item in items:\n        item *= 2\n", namespace)
    first, second = np.ones(2), np.ones(3)
    items = [first, second]
    student(session, "replace_entries")(items)
    assert items[0] is not first and items[1] is second
    np.testing.assert_array_equal(items[0], [2.0, 2.0])
    np.testing.assert_array_equal(first, [1.0, 1.0])
    items = [first, second]
    student(session, "scale_entries")(items)
    assert items[0] is first and items[1] is second
    np.testing.assert_array_equal(second, [2.0, 2.0, 2.0])


def _hostile(reply_with):
    """(session, thread): a fake kernel that answers the first request with ``reply_with(sock)``."""
    judge_end, kernel_end = socket.socketpair()
    session = Session(judge_end, time.monotonic() + 2)

    def answer():
        try:
            wire.receive(kernel_end)
            reply_with(kernel_end)
        except OSError:
            pass

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return session, kernel_end


def test_a_lookup_reply_cannot_add_names_the_test_did_not_ask_for():
    session, _end = _hostile(lambda sock: wire.send(sock, {"ok": {"np": 1, "abs": 2, "double": 3}}))
    assert session.lookup(["double"]) == {"double": 3}


def test_a_reply_trickling_in_byte_by_byte_still_meets_the_deadline():
    def trickle(sock):
        data = wire._HEADER.pack(20) + b'{"ok": 1          }'
        for byte in data:
            sock.sendall(bytes([byte]))
            time.sleep(0.3)

    session, _end = _hostile(trickle)
    started = time.monotonic()
    with pytest.raises(OutOfTime):
        session.lookup(["x"])
    assert time.monotonic() - started < 3


def test_a_reply_of_millions_of_tiny_values_is_refused():
    session, _end = _hostile(lambda sock: wire.send(sock, {"ok": {"x": [[]] * (wire.MAX_ITEMS + 1)}}))
    with pytest.raises(KernelLost):
        session.lookup(["x"])


def test_operators_on_the_students_objects_never_hand_the_judge_a_verdict(pair):
    session, _ = pair
    value = student(session, "always_equal")()          # a float subclass: not a class the test named
    for verdict in (lambda: value - 12.01, lambda: -value, lambda: bool(value), lambda: float(value),
                    lambda: value < 1.0):
        with pytest.raises(TypeError, match="classgrader.checks"):
            verdict()
    counter = student(session, "Counter")(1)             # a class the test named: operators apply,
    total = counter + 2.5                                # and their results stay in the kernel
    assert isinstance(total, RemoteObject) and total.value == 3.5
    with pytest.raises(TypeError, match="classgrader.checks"):
        bool(total)


def test_the_student_code_may_set_the_data_an_instance_of_the_test_has(pair):
    """``p.data -= lr * p.grad`` on the test's parameters is the student's answer; classes,
    methods, private and new attributes stay out of reach."""
    session, namespace = pair
    exec("def step(p, lr):\n    p.value -= lr * p.deriv\n    return None\n"
         "def set_attr(obj, name, value):\n    setattr(obj, name, value)\n", namespace)
    p = Pair(2.0, 4.0)
    student(session, "step")(p, 0.25)
    assert p.value == 1.0 and p.deriv == 4.0
    for target, name in [(Pair(1.0), "extra"), (Pair(1.0), "_secret"), (Pair, "value"),
                         (Pair(1.0), "__add__")]:
        with pytest.raises(AttributeError):
            student(session, "set_attr")(target, name, 0.0)
    assert not hasattr(Pair, "value") and Pair(1.0)._secret == "expected 12.01"


def test_a_callback_sees_the_arguments_as_the_student_code_has_changed_them(pair):
    """``x[i] += h; f(x)`` in place: the test's f gets x with the step, and x is restored after."""
    session, namespace = pair
    exec("def bump_and_call(f, x, h):\n    x[0] += h\n    up = f(x)\n    x[0] -= 2 * h\n"
         "    down = f(x)\n    x[0] += h\n    return (up - down) / (2 * h)\n", namespace)
    x = np.array([1.5, 2.0])
    slope = student(session, "bump_and_call")(lambda v: float(v[0] ** 2), x, 0.25)
    assert slope == pytest.approx(3.0) and x.tolist() == [1.5, 2.0]


def test_the_tests_code_run_at_the_kernels_request_applies_no_operator_to_the_students_objects(pair):
    """A swapped-in reference solution or a callback, called by the student's code with objects
    of the student's: an operator there would be answered (and recorded) by the kernel, tracing
    the test's hidden code, so it is refused; the same operator in the test's own code applies."""
    session, _ = pair
    counter_class = student(session, "Counter")          # a class the test names
    assert (counter_class(1) + 2).value == 3.0           # the test's own code: the operator applies
    apply = student(session, "apply")                    # apply(f, x) = f(x) + 1, in the kernel
    with pytest.raises(TypeError):
        apply(lambda c: c + 2, counter_class(3))         # the kernel calls the test's lambda
    assert apply(lambda v: 2 * v, 3.0) == 7.0            # plain data still works there


def test_a_generator_travels_by_value_and_its_draws_come_back(pair, monkeypatch):
    """The student's code draws from its own copy of the test's generator (a request for a billion
    draws costs the kernel, not the grading process); the test's generator then stands where the
    student's draws left it, exactly as if it had been passed by reference."""
    session, _ = pair
    served = []
    serve = session._serve
    monkeypatch.setattr(session, "_serve", lambda message: served.append(message.get("op")) or serve(message))
    rng, twin = np.random.default_rng(7), np.random.default_rng(7)
    np.testing.assert_array_equal(student(session, "draws")(rng, 4), twin.normal(0.0, 1.0, size=4))
    assert served == [], "the kernel asked the judge to draw"
    assert rng.bit_generator.state == twin.bit_generator.state
    codec = wire.Codec(lambda value: {}, lambda tag, payload: None)
    for state in ({"bit_generator": "os.system"}, {"bit_generator": "PCG64", "state": "x"}, [1]):
        with pytest.raises(wire.WireError):
            codec.decode({"$g": codec.encode(state)})


def test_the_tests_code_run_at_the_kernels_request_ends_at_the_deadline(pair):
    """A call of the student's code into the test's code (``MLP(2, [10**5] * 100, rng)`` on a class
    the test swapped in) runs in the grading process: it must not outlast the test's time."""
    session, _ = pair

    def long_work(v):
        until = time.monotonic() + 20
        while time.monotonic() < until:
            pass
        return v

    session.deadline = time.monotonic() + 1.0
    started = time.monotonic()
    with pytest.raises(OutOfTime):
        student(session, "apply")(long_work, 1.0)
    assert time.monotonic() - started < 5, "the test's code ran on past the deadline"


def test_the_tests_code_run_at_the_kernels_request_cannot_make_the_grader_allocate_without_bound(pair):
    """An outer product of a column and a row the student's code chose (1.6 GB here) is built, if at
    all, in the grading process: beyond the test cell's memory budget it fails there, not the grader."""
    session, _ = pair
    column = np.ones((20_000, 1))

    def outer(a, b):
        return float((a * b).sum())

    with pytest.raises(Exception) as raised:   # the MemoryError comes back through the student's code
        student(session, "apply")(lambda row: outer(column, row), np.ones((1, 10_000)))
    assert "MemoryError" in repr(raised.value) or isinstance(raised.value, MemoryError)
    assert resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY, "the limit outlived the call"
    assert student(session, "apply")(lambda v: outer(column[:10], v), np.ones((1, 10))) == 101.0   # apply adds 1


def test_the_student_code_cannot_give_the_tests_numbers_another_type_or_shape(pair):
    """``p.data`` of the test's own parameter stays a float; an array's shape and dtype stay."""
    session, _ = pair

    class Param:
        def __init__(self):
            self.data, self.weights = 1.0, np.zeros(3)

    Param.__module__ = "__judge__"   # as if defined in a test cell
    param = Param()
    assert student(session, "set_attribute")(param, "data", 2) is None and type(param.data) is float
    for name, value in [("data", np.ones((1000, 1))), ("weights", np.zeros((3, 3))), ("data", "text")]:
        with pytest.raises(TypeError):
            student(session, "set_attribute")(param, name, value)
    assert param.data == 2.0 and param.weights.shape == (3,)


def test_the_watchdog_takes_no_lock_in_the_serving_thread():
    """An exception arriving in arm() or disarm() can leave no lock held: they take none."""
    import dis

    from classgrader.grade.judge.session import Watchdog

    for method in (Watchdog.arm, Watchdog.disarm):
        names = {i.argval for i in dis.get_instructions(method)}
        assert not names & {"_cond", "_lock", "acquire", "__enter__"}, method.__name__
