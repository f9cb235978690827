"""The warm zygote: one trusted process per grader that forks a fresh, sandboxed kernel per notebook.

Starting a kernel costs an interpreter and the imports of numpy, matplotlib, IPython, ipykernel and
the course's picture library: over a second per notebook. The zygote pays it once per grading
process. It is started by absolute path in isolated mode (``python -I``: no current folder, no
``PYTHONPATH``, no user site on ``sys.path``), with a clean environment, in ``/``; it imports those
modules, runs no student code and keeps a single thread, and forks on request:

* the **supervisor** (a direct fork of the zygote, outside the sandbox) unshares the namespaces
  (:func:`classgrader.grade.sandbox.enter_namespaces`), forks the kernel, forwards SIGINT to it,
  turns SIGTERM into SIGKILL, and exits with the kernel's exit code once the kernel, and with it
  every process of its PID namespace, is gone;
* the **kernel** (PID 1 of the new PID namespace) puts itself in the remaining layers and becomes
  an IPython kernel in-process (:class:`ipykernel.kernelapp.IPKernelApp`).

Each kernel is a fresh fork of the clean zygote, so nothing of one student's run (modules, files in
its private ``/tmp`` or ``/dev/shm``, environment, processes) exists in the next. Every process of
the chain dies with its parent (``PR_SET_PDEATHSIG``), and the zygote exits when its grader closes
the control socket (or dies).

Requests travel over a private socket pair as JSON lines: ``spawn`` (returns the supervisor's PID),
``reap`` (its exit code, or None while it runs: the zygote reaps a child only when asked, so the
PID cannot be reused while the grader still signals it) and ``ping``.
"""
from __future__ import annotations

import atexit
import importlib
import json
import multiprocessing.util
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from classgrader.grade import figures, sandbox

#: What the zygote imports before the first fork (optional ones are skipped when missing): the
#: kernel's own start-up imports (measured: what IPKernelApp.initialize imports after these) and
#: what notebooks and checks use.
PRELOAD = ("numpy", "numpy.random", "numpy.testing", "matplotlib", "matplotlib.pyplot", "IPython",
           "IPython.core.completerlib", "IPython.core.debugger", "IPython.core.oinspect", "IPython.core.logger",
           "IPython.extensions.storemagic", "IPython.utils.wildcard", "ipykernel.kernelapp", "ipykernel.ipkernel",
           "ipykernel.zmqshell", "ipykernel.debugger", "zmq", "jupyter_client.session", "tornado.platform.asyncio",
           "sqlite3", "faulthandler", "secrets", "mlviz", "classgrader.grade.judge.agent")
OPTIONAL = frozenset({"mlviz", "classgrader.grade.judge.agent"})
#: Variables of the grader's environment the zygote keeps (besides ``LC_*`` and ``OPENBLAS_*``).
PASSED = ("PATH", "LANG", "LANGUAGE", "TZ", "HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "MPLCONFIGDIR")
#: One thread for every numerical library: the zygote must have no threads when it forks.
SINGLE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                        "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
REFUSED = 3  # exit code of a kernel that refuses to start (strict mode)


@dataclass
class Launch:
    """What one kernel needs; it crosses from the grader to the zygote as JSON."""

    kernel_args: list[str]          # IPKernelApp's command line (``-f CONNECTION_FILE ...``)
    cwd: str                        # the submission's folder
    socket_dir: str                 # the kernel's private socket folder
    limits: dict[str, int] = field(default_factory=lambda: sandbox.Sandbox().limits())
    strict: bool = False
    probe: str = ""                 # a file: run the sandbox probe and write its report there


# --- the kernel side of one fork --------------------------------------------------------------

def _layer(report: dict[str, str], name: str, step, *args) -> None:
    try:
        report[name] = step(*args)
    except OSError as err:
        report[name] = f"unavailable: {err.strerror or err}"


def _ok(report: dict[str, str], name: str) -> bool:
    return report.get(name, "").startswith("ok")


def plan_view(launch: Launch) -> dict:
    """What the kernel keeps in view, worked out before its user namespace hides who owns what."""
    user = sandbox.kernel_user(launch.limits)
    readable = sandbox.readable_roots()
    keep = [launch.cwd, launch.socket_dir, *readable]
    return {"user": user, "readable": readable, "keep": keep,
            "unreachable": sandbox.unreachable_folders(keep, *user) if user else []}


def confine(launch: Launch, report: dict[str, str], plan: dict) -> str:
    """Apply layers 2-5 of :mod:`~classgrader.grade.sandbox` to this process; returns its home folder."""
    user, limits = plan["user"], launch.limits
    if _ok(report, "mounts"):
        _layer(report, "mounts", sandbox.private_view, plan["keep"], limits["tmp_mb"], _ok(report, "processes"),
               plan["unreachable"])
    private = _ok(report, "mounts")
    home = "/tmp/home" if private else os.path.join(launch.socket_dir, "home")
    os.makedirs(home, mode=0o700, exist_ok=True)
    if user and not private and plan["unreachable"]:
        user = None  # without the private view that user could not even load Python: drop powers only
    if user:
        os.chown(home, *user)
    _layer(report, "limits", sandbox.set_limits, limits)
    writable = [launch.cwd, launch.socket_dir, home] + (["/tmp", "/dev/shm"] if private else [])
    _layer(report, "filesystem", lambda: "ok (Landlock ABI {}: reads the system and the course's code, "
           "writes its own folders)".format(sandbox.apply_landlock(plan["readable"] + ["/dev"], writable,
                                                                   [f"/dev/{d}" for d in sandbox.DEVICES])))
    _layer(report, "identity", sandbox.drop_identity, user)
    if plan["user"] and not user and _ok(report, "identity"):
        report["identity"] = "unavailable: runs as root without capabilities (the process limit does not bind)"
    return home


def _kernel_environment(home: str, private_tmp: bool) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LANGUAGE", "TZ")
            or k.startswith(("LC_", "OPENBLAS_"))}
    return {**keep, **SINGLE_THREAD, **figures.environment(), "HOME": home, "TMPDIR": "/tmp" if private_tmp else home,
            "IPYTHONDIR": os.path.join(home, ".ipython"), "MPLCONFIGDIR": os.path.join(home, ".matplotlib"),
            "XDG_CACHE_HOME": os.path.join(home, ".cache"), "MPLBACKEND": INLINE_BACKEND}


def _fresh_process_state(launch: Launch, home: str, private_tmp: bool) -> None:
    """What a new interpreter would have: its own environment, folder, randomness, temp folder."""
    import tempfile
    import warnings

    os.environ.clear()
    os.environ.update(_kernel_environment(home, private_tmp))
    os.chdir(launch.cwd)
    sys.path[:] = [p for p in sys.path if p and os.path.isabs(p) and not sandbox.within(p, launch.cwd)]
    sys.argv[:] = [""]
    tempfile.tempdir = None
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    # ipykernel's subprocess-output pipe wants a TCP port, which the sandbox refuses; its warning
    # would land in the first cell's output.
    warnings.filterwarnings("ignore", message="Couldn't bind IOPub Pipe")


def _refuse_or_warn(report: dict[str, str], strict: bool) -> None:
    missing = {k: v for k, v in report.items() if not v.startswith("ok")}
    if not missing:
        return
    message = "classgrader sandbox NOT fully set up: " + "; ".join(f"{k}: {v}" for k, v in missing.items())
    print(("REFUSING TO START: " if strict else "WARNING: ") + message, file=sys.stderr, flush=True)
    if strict:
        os._exit(REFUSED)


def become_kernel(launch: Launch, report: dict[str, str], plan: dict, supervisor_alive: int) -> None:
    """The kernel: confine this fresh fork, then run IPython's kernel in it (never returns)."""
    code = 1
    try:
        sandbox.die_with_parent()
        if select.select([supervisor_alive], [], [], 0)[0]:  # the supervisor is already gone
            os._exit(1)
        os.close(supervisor_alive)
        os.setsid()  # its own session and process group: kill(0, ...) reaches nothing outside
        for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(number, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        report["isolated start"] = ("ok (isolated interpreter: no folder of the submission on sys.path)"
                                    if sys.flags.isolated else "unavailable: not started with python -I")
        home = confine(launch, report, plan)
        _fresh_process_state(launch, home, _ok(report, "mounts"))
        if launch.probe:
            from classgrader.grade.probe import inside

            Path(launch.probe).write_text(json.dumps(inside(report, launch)))
            os._exit(0)
        _refuse_or_warn(report, launch.strict)
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=launch.kernel_args)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException as err:  # noqa: BLE001 - say why, then leave
        print(f"classgrader kernel failed: {type(err).__name__}: {err}", file=sys.__stderr__, flush=True)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


# --- the supervisor side ----------------------------------------------------------------------

def _exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


def _own_user_namespace(mapper: tuple[int, int]) -> str:
    """Enter a new user namespace; the zygote, outside it, writes its maps (see :func:`_map_child`)."""
    ready, mapped = mapper
    try:
        sandbox.unshare_user()
    except OSError as err:
        os.write(ready, b"0")
        return f"unavailable: {err.strerror or err}{sandbox.apparmor_hint()}"
    os.write(ready, b"1")
    answer = os.read(mapped, 4096).decode()
    if answer != "ok":
        raise OSError(answer)  # an unmapped user namespace cannot even create a file: stop here
    return "ok (own user namespace: its own process count)"


def _map_child(pid: int, launch: Launch, mapper: tuple[int, int]) -> None:
    """The zygote's half of :func:`_own_user_namespace`: map the supervisor's new user namespace."""
    ready, mapped = mapper
    if select.select([ready], [], [], 10)[0] and os.read(ready, 1) == b"1":
        try:
            sandbox.map_user_namespace(pid, sandbox.kernel_user(launch.limits))
            os.write(mapped, b"ok")
        except OSError as err:
            os.write(mapped, str(err).encode()[:4000])


def supervise(launch: Launch, mapper: tuple[int, int]) -> None:
    """The supervisor of one kernel, in a fresh fork (never returns)."""
    try:
        sandbox.die_with_parent()
        plan = plan_view(launch)
        report = {"user namespace": _own_user_namespace(mapper)}
        for fd in mapper:
            os.close(fd)
        report.update(sandbox.enter_namespaces())
        watch, alive = os.pipe()
        kernel = os.fork()
        if kernel == 0:
            os.close(alive)
            become_kernel(launch, report, plan, watch)
        os.close(watch)
        signal.signal(signal.SIGINT, lambda *_: _signal(kernel, signal.SIGINT))
        for number in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, lambda *_: _signal(kernel, signal.SIGKILL))
        _pid, status = os.waitpid(kernel, 0)
        os._exit(_exit_code(status))
    except BaseException as err:  # noqa: BLE001
        print(f"classgrader kernel supervisor failed: {err}", file=sys.stderr, flush=True)
        os._exit(1)


# --- the zygote process -----------------------------------------------------------------------

def threads() -> int:
    """Threads of this process, native ones included."""
    return len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else threading.active_count()


def _preload(cold: bool) -> list[str]:
    loaded = []
    for name in () if cold else PRELOAD:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except ImportError:
            if name not in OPTIONAL:
                raise
    return loaded


def _answer(request: dict, children: set[int], control: socket.socket) -> dict:
    if request.get("op") == "spawn":
        if threads() != 1:
            return {"error": f"the zygote has {threads()} threads; it forks only with one"}
        launch = Launch(**request["launch"])
        (ready_in, ready_out), (mapped_in, mapped_out) = os.pipe(), os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(control.detach())  # the kernel must never hold the zygote's control socket
            for fd in (ready_in, mapped_out):
                os.close(fd)
            supervise(launch, (ready_out, mapped_in))
        children.add(pid)
        for fd in (ready_out, mapped_in):
            os.close(fd)
        try:
            _map_child(pid, launch, (ready_in, mapped_out))
        finally:
            for fd in (ready_in, mapped_out):
                os.close(fd)
        return {"pid": pid}
    if request.get("op") == "reap":
        pid = int(request["pid"])
        if pid not in children:
            return {"error": f"{pid} is not a kernel of this zygote"}
        done, status = os.waitpid(pid, os.WNOHANG)
        if not done:
            return {"status": None}
        children.discard(pid)
        return {"status": os.waitstatus_to_exitcode(status)}
    return {"pid": os.getpid(), "threads": threads(), "children": sorted(children)}


def serve(control: socket.socket, cold: bool = False) -> None:
    """Answer the grader's requests until it closes the socket, then end every kernel."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the grader, which ends the kernels
    hello = {"pid": os.getpid(), "preloaded": _preload(cold), "threads": threads()}
    control.sendall(json.dumps(hello).encode() + b"\n")
    children: set[int] = set()
    for line in control.makefile("rb"):
        try:
            reply = _answer(json.loads(line), children, control)
        except (OSError, ValueError, KeyError, TypeError) as err:
            reply = {"error": f"{type(err).__name__}: {err}"}
        control.sendall(json.dumps(reply).encode() + b"\n")
    for pid in children:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


# --- the grader's side --------------------------------------------------------------------------

class ZygoteError(RuntimeError):
    """The zygote is gone or refused a request."""


def zygote_environment() -> dict[str, str]:
    """The zygote's environment: only what the grader's environment must lend it."""
    env = {k: v for k, v in os.environ.items() if k in PASSED or k.startswith(("LC_", "OPENBLAS_"))}
    # PYDEVD_DISABLE_FILE_VALIDATION: debugpy (imported by ipykernel) would warn about frozen modules.
    return {**env, **SINGLE_THREAD, "MPLBACKEND": INLINE_BACKEND, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


class Zygote:
    """A running zygote and its control socket (one per grading process: see :func:`shared`)."""

    def __init__(self, cold: bool = False, timeout: float = 120):
        ours, theirs = socket.socketpair()
        command = [sys.executable, "-I", "-m", "classgrader.grade.zygote", str(theirs.fileno())]
        self.process = subprocess.Popen(command + (["--cold"] if cold else []), pass_fds=[theirs.fileno()],
                                        env=zygote_environment(), cwd="/", stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        theirs.close()
        self.owner = os.getpid()
        self._socket, self._lock = ours, threading.Lock()
        self._socket.settimeout(timeout)
        self._reader = ours.makefile("rb")
        self.hello = self._read()
        self._socket.settimeout(30)

    def _read(self) -> dict:
        try:
            line = self._reader.readline()
        except OSError as err:
            raise ZygoteError(f"the kernel zygote does not answer: {err}") from None
        if not line:
            raise ZygoteError(f"the kernel zygote exited (code {self.process.poll()}); see its error above")
        return json.loads(line)

    def request(self, **message) -> dict:
        with self._lock:
            try:
                self._socket.sendall(json.dumps(message).encode() + b"\n")
            except OSError as err:
                raise ZygoteError(f"the kernel zygote is gone: {err}") from None
            reply = self._read()
        if "error" in reply:
            raise ZygoteError(reply["error"])
        return reply

    def spawn(self, launch: Launch) -> int:
        """Fork a kernel; the PID of its supervisor."""
        return int(self.request(op="spawn", launch=asdict(launch))["pid"])

    def reap(self, pid: int) -> int | None:
        """The supervisor's exit code once it has exited (it is then reaped), else None."""
        return self.request(op="reap", pid=pid)["status"]

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def close(self) -> None:
        """Close the control socket: the zygote ends its kernels and exits."""
        self._reader.close()
        self._socket.close()
        if self.owner == os.getpid():
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


_shared: Zygote | None = None


def shared() -> Zygote:
    """This process's zygote, started on first use (and again if it died)."""
    global _shared
    if _shared is None or not _shared.alive():
        _shared = Zygote()
        # A grading worker of a process pool ends without atexit handlers: multiprocessing runs
        # its own finalizers instead. Either way the zygote is closed and waited for (a zygote
        # nobody waits for is left to init, and its kernels' CPU time to nobody).
        multiprocessing.util.Finalize(_shared, _shared.close, exitpriority=10)
    return _shared


def _close_shared() -> None:
    if _shared is not None and _shared.owner == os.getpid():
        _shared.close()


def _forget_inherited() -> None:
    """In a forked child (a grading worker): the parent's zygote is not ours; drop our copy of its socket."""
    global _shared
    if _shared is not None:
        _shared._reader.close()
        _shared._socket.close()
    _shared = None


atexit.register(_close_shared)
os.register_at_fork(after_in_child=_forget_inherited)


def main(argv: list[str]) -> None:
    serve(socket.socket(fileno=int(argv[0])), cold="--cold" in argv)


if __name__ == "__main__":
    main(sys.argv[1:])
