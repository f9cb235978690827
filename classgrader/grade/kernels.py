"""Kernel managers for grading: IPC transport in a private folder, and the forked, sandboxed kernel.

* :class:`IPCKernelManager`: an ordinary kernel whose sockets are Unix sockets in a private folder
  (:attr:`~IPCKernelManager.socket_dir`): no TCP ports to clash when many notebooks are graded at
  once, and it keeps working in a network namespace that has no network at all. The folder is
  removed when the kernel's resources are cleaned up, whether the kernel shut down or died.
* :class:`ForkedKernelManager`: the grading kernel. It is not started from a kernel spec (whose
  ``argv`` could be shadowed) but forked from this process's warm zygote
  (:mod:`classgrader.grade.zygote`) and sandboxed (:mod:`classgrader.grade.sandbox`).

Every socket folder is named ``classgrader-sandbox-<pid of its grader>-*``: a grader that was
killed cannot remove its folders, so the next manager created anywhere on the machine removes the
folders whose grader is dead (:func:`sweep_stale`).
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import zmq
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

from classgrader.grade import sandbox, zygote

#: Prefix of every kernel's private folder in the system's temporary folder.
PREFIX = "classgrader-sandbox-"
_OWNED = re.compile(re.escape(PREFIX) + r"(\d+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def socket_root() -> str:
    """Where kernel folders go: the temporary folder, unless its path is too long for the sockets
    inside (a Unix socket's path holds at most 107 bytes), then /tmp."""
    folder = tempfile.gettempdir()
    return folder if len(folder) <= 60 else "/tmp"


def sweep_stale(folder: str | None = None) -> list[str]:
    """Remove kernel folders whose grader process is dead; the paths removed."""
    removed = []
    for path in Path(folder or socket_root()).glob(PREFIX + "*"):
        owner = _OWNED.match(path.name)
        if owner and path.is_dir() and not _alive(int(owner.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path))
    return removed


_swept = False


def private_folder() -> str:
    """A new private folder named after this process (so that :func:`sweep_stale` knows its owner)."""
    return os.path.realpath(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=socket_root()))


def _lend(folder: str, user: tuple[int, int] | None) -> None:
    """Hand ``folder`` and what is in it to the kernel's user (when grading runs as root)."""
    if user is None:
        return
    for root, dirs, files in os.walk(folder):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.chown(name, *user, follow_symlinks=False)


def _take_back(folder: str, owner: tuple[int, int]) -> None:
    """Give ``folder`` and everything the kernel left in it back to its owner (links not followed)."""
    if not os.path.isdir(folder):
        return
    for root, dirs, files in os.walk(folder):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            try:
                os.chown(name, *owner, follow_symlinks=False)
            except OSError:
                pass


#: Largest message the grader accepts from a kernel, in bytes.
MAX_KERNEL_MESSAGE = 32 * 2**20


class IPCKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernel listens on Unix sockets in its own private folder."""

    #: The (uid, gid) the kernel runs as, when it is not this process's: its folders are lent to it.
    kernel_user: tuple[int, int] | None = None

    def __init__(self, **kwargs):
        global _swept
        if not _swept:
            sweep_stale()
            _swept = True
        #: The kernel's private folder: its sockets and connection file, and the place where the
        #: grader may create Unix sockets for the kernel to connect to (writable for the kernel's
        #: user: a socket made there must be writable for it too, e.g. chmod 0o666).
        self.socket_dir: str = private_folder()
        kwargs.setdefault("transport", "ipc")
        kwargs.setdefault("ip", os.path.join(self.socket_dir, "kernel"))
        kwargs.setdefault("connection_file", os.path.join(self.socket_dir, "connection.json"))
        super().__init__(**kwargs)
        # The kernel is the student's: a single message larger than this is dropped by ZeroMQ
        # (the kernel's socket is disconnected and reconnects), so no output of the student's code
        # can fill the grader's memory. Applies to the sockets of this manager's clients.
        self.context.setsockopt(zmq.MAXMSGSIZE, MAX_KERNEL_MESSAGE)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        try:
            await super()._async_cleanup_resources(restart=restart)
        finally:
            if not restart:
                shutil.rmtree(self.socket_dir, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources


class ForkedProcess:
    """One forked kernel's supervisor, with the part of :class:`subprocess.Popen` that
    :class:`~jupyter_client.provisioning.LocalProvisioner` uses.

    Signals go to the supervisor: SIGINT is passed on to the kernel; SIGKILL and SIGTERM make the
    supervisor kill the kernel, wait until its PID namespace is empty, and exit.
    """

    stdin = stdout = stderr = None

    def __init__(self, launch: zygote.Launch, owner: zygote.Zygote | None = None):
        self._zygote = owner or zygote.shared()
        self.pid = self._zygote.spawn(launch)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self.returncode = self._zygote.reap(self.pid)
            except zygote.ZygoteError:
                self.returncode = -signal.SIGKILL  # the zygote died, and its kernels with it
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, number: int) -> None:
        if self.poll() is None:  # not reaped yet: the PID is still this supervisor's
            os.kill(self.pid, signal.SIGTERM if number == signal.SIGKILL else number)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    terminate = kill


class ForkProvisioner(LocalProvisioner):
    """Launches the kernel as a fork of the zygote instead of a new process from a command line."""

    _lent: tuple[str, tuple[int, int]] | None = None

    async def pre_launch(self, **kwargs):
        km = self.parent
        if not kwargs.get("cwd"):
            kwargs["cwd"] = os.path.join(km.socket_dir, "work")  # never the grader's own folder
            os.mkdir(kwargs["cwd"])
        cwd = os.path.realpath(kwargs["cwd"])
        info = os.stat(cwd)
        kwargs = await super().pre_launch(**kwargs)
        if km.kernel_user:
            self._lent = (cwd, (info.st_uid, info.st_gid))
            _lend(km.socket_dir, km.kernel_user)
            _lend(cwd, km.kernel_user)
        return kwargs

    async def launch_kernel(self, cmd: list[str], **kwargs):
        km = self.parent
        start = cmd.index("ipykernel_launcher") + 1
        launch = zygote.Launch(kernel_args=cmd[start:], cwd=os.path.realpath(kwargs["cwd"]),
                               socket_dir=km.socket_dir, limits=km.sandbox.limits(),
                               strict=sandbox.strict(km.sandbox))
        self.process = ForkedProcess(launch)
        self.pid, self.pgid, self.cwd = self.process.pid, None, launch.cwd
        return self.connection_info

    async def kill(self, restart: bool = False) -> None:
        if self.process:
            self.process.kill()

    async def cleanup(self, restart: bool = False) -> None:
        if self.process:
            self.process.kill()
            try:
                await asyncio.wait_for(self.wait(), timeout=10)
            except asyncio.TimeoutError:
                os.kill(self.process.pid, signal.SIGKILL)  # the supervisor itself hangs
                self.process.wait(timeout=5)
        if self._lent:
            _take_back(*self._lent)
            self._lent = None
        await super().cleanup(restart=restart)


class ForkedKernelManager(IPCKernelManager):
    """The grading kernel: a sandboxed fork of the zygote, over IPC (see the module's docstring).

    The sandbox's settings are ``c.Sandbox.*`` of the configuration it is given.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sandbox = sandbox.Sandbox(parent=self)
        self.kernel_user = sandbox.kernel_user(self.sandbox.limits())
        self._forked_spec = KernelSpec(
            argv=[sys.executable, "-I", "-m", "ipykernel_launcher", "-f", "{connection_file}", *kernel_arguments()],
            display_name="Python 3 (calculus-for-ml grading sandbox)", language="python",
            interrupt_mode="signal", metadata={"debugger": False})

    @property
    def kernel_spec(self) -> KernelSpec:
        return self._forked_spec

    async def _async_pre_start_kernel(self, **kw):
        self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
        if self.provisioner is None:
            self.provisioner = ForkProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)


def kernel_arguments() -> list[str]:
    """IPKernelApp options of every grading kernel: no current folder on sys.path, and no parent
    poller (the kernel dies with its supervisor anyway) and so no console banner. (nbclient adds
    ``--HistoryManager.hist_file=:memory:``.)"""
    return ["--IPKernelApp.ignore_cwd=True", "--IPKernelApp.parent_handle=1"]


def kernel_manager_class(sandboxed: bool, settings: sandbox.Sandbox, log) -> type[IPCKernelManager]:
    """The manager class for grading: the sandboxed fork where possible.

    Raises
    ------
    RuntimeError
        In strict mode, where the sandbox is not wanted or not possible.
    """
    if sandboxed and sandbox.supported():
        return ForkedKernelManager
    why = "the sandbox is switched off" if not sandboxed else f"there is no sandbox on {sys.platform}"
    if sandbox.strict(settings):
        raise RuntimeError(f"refusing to grade: {why} (strict mode)")
    log.warning("WARNING: %s: student code runs UNSANDBOXED, with your permissions", why)
    return IPCKernelManager
