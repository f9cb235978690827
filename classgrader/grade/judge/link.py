"""Opening and closing the judge's connection to a notebook's kernel, for one test cell.

The judge listens on a fresh Unix socket in the kernel's private socket folder, asks the kernel
(one silent ``execute_request``, not stored in its history) to run the agent's ``serve``, accepts
the one connection that presents the cell's random token, and at the end says ``done`` and waits
for the kernel to become idle again. If the kernel does not answer in time it is interrupted, and
if it ignores the interrupt it is killed: the verdicts of the cells that could not run say so.
"""
from __future__ import annotations

import contextlib
import enum
import hmac
import os
import queue
import secrets
import socket
import time
from dataclasses import dataclass

from jupyter_core.utils import run_sync

from classgrader.grade.judge import wire
from classgrader.grade.judge.session import KernelLost, Session, OutOfTime

#: What the kernel runs to put itself at the judge's disposal for one test cell.
SERVE = "__import__('classgrader.grade.judge.agent', fromlist=['serve']).serve({address!r}, {token!r})"
#: Longest wait for the kernel to connect, or to become idle after ``done``, in seconds (after an
#: interrupt the wait is the client's ``interrupt_grace``).
CONNECT_SECONDS = 30.0
#: How often a wait for the kernel to become idle looks whether the kernel has died, in seconds.
ALIVE_SECONDS = 0.25
#: How often the judge looks whether the kernel answered ``serve`` without connecting, in seconds.
POLL_SECONDS = 0.2


@dataclass
class Hearing:
    """One open conversation: the session, and the kernel request that carries it."""

    session: Session
    msg_id: str
    address: str


def _sync(value):
    """The result of a kernel manager method that may be a coroutine function's call."""
    if hasattr(value, "__await__"):
        async def wait():
            return await value
        return run_sync(wait)()
    return value


def open_hearing(client, socket_dir: str, deadline: float) -> Hearing:
    """Start ``serve`` in the kernel of ``client`` (an nbclient NotebookClient) and connect.

    Connections that do not present the cell's token in time (a process left behind by some
    other code, say) are closed and the judge goes on waiting for the right one.

    Raises
    ------
    KernelLost
        When the kernel does not connect with the right token in time.
    """
    token = secrets.token_hex(16)
    address = os.path.join(socket_dir, f"judge-{secrets.token_hex(4)}.sock")
    wait_until = min(deadline, time.monotonic() + CONNECT_SECONDS)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(address)
        os.chmod(address, 0o666)   # the kernel may run as an unprivileged user
        listener.listen(4)
        msg_id = client.kc.execute(SERVE.format(address=address, token=token), silent=True,
                                   store_history=False, allow_stdin=False)
        sock = _accept_with_token(listener, token, wait_until, lambda: _replied(client, msg_id))
    finally:
        listener.close()
    return Hearing(Session(sock, deadline), msg_id, address)


def _accept_with_token(listener: socket.socket, token: str, wait_until: float, gave_up) -> socket.socket:
    """The first connection whose first message is ``{"hello": token}``; others are dropped.

    ``gave_up()`` is asked between short waits: once the kernel has answered the ``serve`` request
    without connecting (something in the notebook changed how code runs), waiting is pointless.
    """
    while True:
        remaining = wait_until - time.monotonic()
        if remaining <= 0 or gave_up():
            raise KernelLost("the kernel did not put itself at the judge's disposal (something in the "
                             "notebook changed how code runs, or the kernel is busy)")
        listener.settimeout(min(remaining, POLL_SECONDS))
        try:
            sock, _ = listener.accept()
        except (socket.timeout, TimeoutError):
            continue
        try:
            hello = wire.receive(sock, deadline=min(wait_until, time.monotonic() + 5))
            if hmac.compare_digest(str(hello.get("hello", "")), token):
                return sock
        except (OSError, EOFError, wire.WireError):
            pass
        sock.close()


class Closed(enum.Enum):
    """How a conversation ended, for the kernel."""

    IDLE = "idle"       # the kernel is idle again: the notebook goes on
    DIED = "died"       # the kernel ended on its own meanwhile
    KILLED = "killed"   # it did not become idle, not even after an interrupt, and was killed


def close_hearing(client, hearing: Hearing, *, interrupt: bool = False) -> Closed:
    """End the conversation and wait until the kernel is idle (or has died, or is killed).

    After ``done`` the kernel has :data:`CONNECT_SECONDS` to become idle; after an interrupt it has
    ``client.interrupt_grace`` seconds (a kernel whose code ignores the interrupt is killed then).
    """
    grace = float(getattr(client, "interrupt_grace", CONNECT_SECONDS))
    sock = hearing.session.sock
    if not interrupt:
        try:
            sock.settimeout(2.0)
            wire.send(sock, {"op": "done"})
        except (OSError, wire.WireError):
            interrupt = True
    sock.close()
    with contextlib.suppress(OSError):
        os.unlink(hearing.address)
    if interrupt:
        _sync(client.km.interrupt_kernel())
    if _idle(client, hearing.msg_id, grace if interrupt else CONNECT_SECONDS):
        return Closed.IDLE
    if not interrupt and kernel_alive(client):
        _sync(client.km.interrupt_kernel())
        if _idle(client, hearing.msg_id, grace):
            return Closed.IDLE
    died = not kernel_alive(client)
    kill(client)
    return Closed.DIED if died else Closed.KILLED


def _replied(client, msg_id: str) -> bool:
    """Has the kernel already answered the request ``msg_id`` (looked at without waiting)?"""
    try:
        while True:
            msg = _sync(client.kc.get_shell_msg(timeout=0))
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return True
    except Exception:  # noqa: BLE001 - queue.Empty: nothing (more) has arrived
        return False


def _idle(client, msg_id: str, seconds: float) -> bool:
    """Wait at most ``seconds`` for the execute reply of the ``serve`` request; False at once when
    the kernel dies meanwhile (a reply that will never come is not waited for)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            msg = _sync(client.kc.get_shell_msg(timeout=min(ALIVE_SECONDS, max(0.01, deadline - time.monotonic()))))
        except queue.Empty:
            if not kernel_alive(client):
                return False
            continue
        except Exception:  # noqa: BLE001 - a dead kernel's channel
            return False
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return True
    return False


def kernel_alive(client) -> bool:
    try:
        return bool(_sync(client.km.is_alive()))
    except Exception:  # noqa: BLE001 - a manager that cannot tell
        return False


def kill(client) -> None:
    try:
        _sync(client.km.shutdown_kernel(now=True))
    except Exception:  # noqa: BLE001 - the kernel may already be gone
        pass


__all__ = ["Closed", "Hearing", "open_hearing", "close_hearing", "kernel_alive", "kill", "KernelLost", "OutOfTime"]
