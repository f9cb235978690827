"""The grading kernel's sandbox (Linux): limits, no network, and a narrow view of the disk.

``python -m classgrader.grade.sandbox -f CONNECTION_FILE`` is the ``argv`` of the
``calculus-for-ml-sandbox`` kernel spec (installed by ``python -m classgrader install-kernel``,
which ``make`` runs when it builds the environment). ``nbgrader_config.py`` selects that kernel for
grading, so plain ``nbgrader autograde`` and ``make grade`` both run student code inside it.

Before it turns into an ordinary IPython kernel (``exec`` of ``ipykernel_launcher``) the launcher

1. sets resource limits: address space, CPU seconds, file size, processes, no core dumps;
2. moves into a new network namespace (``unshare``), where nothing but loopback exists and even
   that is down: the kernel talks to the grader over Unix sockets (IPC transport), which keep
   working;
3. restricts its own file access with Landlock: read access to the system, the Python
   installation, the course's ``classgrader`` package and picture library; read-write access to
   the submission's own folder, the kernel's socket folder and a private temporary folder; nothing
   else, so the gradebook (which stores the hidden tests), ``source/``, ``solutions/``,
   ``release/`` and the other students' folders cannot be read. Where the kernel supports it, TCP
   connects and signals to processes outside the sandbox are refused as well.

Each layer that cannot be set up is reported on stderr (which reaches the grader's log); with
``Sandbox.strict`` (or ``CLASSGRADER_SANDBOX_STRICT=1``) the kernel refuses to start instead.
"""
from __future__ import annotations

import ctypes
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
from pathlib import Path

from traitlets import Bool, Integer
from traitlets.config import Configurable

KERNEL_NAME = "calculus-for-ml-sandbox"

# --- Landlock constants (include/uapi/linux/landlock.h) -------------------------------------
_SYS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_ALL_ABI1 = (1 << 13) - 1
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_PR_SET_NO_NEW_PRIVS = 38
_CLONE_NEWUSER, _CLONE_NEWNET = 0x10000000, 0x40000000


class Sandbox(Configurable):
    """Limits of the grading kernel; set them in ``nbgrader_config.py`` as ``c.Sandbox.<name>``."""

    memory_mb = Integer(4096, help="Address-space limit of the kernel, MiB.").tag(config=True)
    cpu_seconds = Integer(900, help="CPU-time limit of the kernel, seconds.").tag(config=True)
    file_size_mb = Integer(64, help="Largest file the kernel may write, MiB.").tag(config=True)
    max_processes = Integer(512, help="Process limit (not enforced for root).").tag(config=True)
    strict = Bool(False, help="Refuse to start a kernel whose sandbox cannot be fully set up.").tag(config=True)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 where Landlock is unavailable."""
    numbers = _SYS.get(platform.machine())
    if not numbers or not sys.platform.startswith("linux"):
        return 0
    value = _libc().syscall(numbers[0], None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(value), 0)


def apply_landlock(read_only: list[str], read_write: list[str]) -> int:
    """Restrict this process (and what it execs) to the given folders; returns the ABI used.

    Raises
    ------
    OSError
        When Landlock is unavailable or a step fails.
    """
    abi = landlock_abi()
    if abi < 1:
        raise OSError("Landlock is not available on this kernel")
    create, add_rule, restrict = _SYS[platform.machine()]
    libc = _libc()
    handled = _ALL_ABI1 | (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0) | \
        (_IOCTL_DEV if abi >= 5 else 0)
    attr = _RulesetAttr(handled, (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
                        (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0)
    size = 24 if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = libc.syscall(create, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    reading = _EXECUTE | _READ_FILE | _READ_DIR
    try:
        for paths, access in ((read_only, reading), (read_write, handled)):
            for path in paths:
                if not os.path.isdir(path):
                    continue
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                try:
                    rule = _PathBeneath(access, fd)
                    if libc.syscall(add_rule, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) < 0:
                        raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
                finally:
                    os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed")
        if libc.syscall(restrict, ruleset, 0) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


def leave_network() -> str:
    """Move into a fresh network namespace; returns how (raises OSError when impossible)."""
    libc = _libc()
    if libc.unshare(_CLONE_NEWNET) == 0:
        return "network namespace"
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) == 0:
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
        return "user and network namespace"
    raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET) is not permitted here")


def set_limits(settings: Sandbox) -> None:
    mib = 1024 * 1024
    for limit, value in ((resource.RLIMIT_AS, settings.memory_mb * mib),
                         (resource.RLIMIT_CPU, settings.cpu_seconds),
                         (resource.RLIMIT_FSIZE, settings.file_size_mb * mib),
                         (resource.RLIMIT_NPROC, settings.max_processes),
                         (resource.RLIMIT_CORE, 0)):
        _soft, hard = resource.getrlimit(limit)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(limit, (value, value if limit != resource.RLIMIT_CPU else hard))


def _course_settings(start: Path) -> Sandbox:
    """Sandbox settings from the nearest nbgrader_config.py above ``start`` (defaults if none)."""
    from traitlets.config.loader import PyFileConfigLoader

    for folder in [start, *start.parents]:
        if (folder / "nbgrader_config.py").is_file():
            try:
                return Sandbox(config=PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config())
            except Exception:  # noqa: BLE001 - defaults are safe
                break
    return Sandbox()


def readable_roots() -> list[str]:
    """Folders the kernel may read: the system, the Python installation, the course's code."""
    import classgrader

    roots = ["/usr", "/lib", "/lib64", "/bin", "/etc", "/proc", "/sys", "/opt",
             sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable)),
             str(Path(classgrader.__file__).resolve().parent)]
    try:
        import mlviz

        roots.extend(p for p in mlviz.__path__ if os.path.isdir(p))
    except ImportError:
        pass
    import site

    roots.extend(site.getsitepackages())
    return sorted({os.path.realpath(r) for r in roots if os.path.isdir(r)})


def _private_home() -> Path:
    home = Path(tempfile.mkdtemp(prefix="classgrader-kernel-"))
    # Matplotlib's font list, copied so that the first plot does not rebuild it (seconds).
    cache = Path(os.environ.get("MPLCONFIGDIR", Path.home() / ".cache" / "matplotlib"))
    (home / "mpl").mkdir()
    for font_list in cache.glob("fontlist-*.json") if cache.is_dir() else []:
        shutil.copy2(font_list, home / "mpl" / font_list.name)
    return home


def main(argv: list[str]) -> None:
    if "-f" not in argv:
        print("usage: python -m classgrader.grade.sandbox -f CONNECTION_FILE", file=sys.stderr)
        raise SystemExit(2)
    connection_file = argv[argv.index("-f") + 1]
    settings = _course_settings(Path.cwd())
    strict = settings.strict or os.environ.get("CLASSGRADER_SANDBOX_STRICT") == "1"
    problems = []

    home = _private_home()
    os.environ.update(HOME=str(home), TMPDIR=str(home), IPYTHONDIR=str(home / "ipython"),
                      MPLCONFIGDIR=str(home / "mpl"), XDG_CACHE_HOME=str(home / "cache"),
                      MPLBACKEND="module://matplotlib_inline.backend_inline",
                      OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                      # ipykernel's subprocess-output pipe wants a TCP port, which the sandbox
                      # refuses; its warning would land in the first cell's output.
                      PYTHONWARNINGS="ignore:Couldn't bind IOPub Pipe")
    socket_dirs = []
    try:
        info = json.loads(Path(connection_file).read_text())
        if info.get("transport") == "ipc":
            socket_dirs.append(os.path.dirname(os.path.realpath(info["ip"])) or os.getcwd())
            socket_dirs.append(os.path.dirname(os.path.realpath(connection_file)))
        else:
            problems.append("the kernel uses TCP, which cannot work without a network; use IPC transport")
    except (OSError, ValueError, KeyError) as err:
        problems.append(f"cannot read the connection file: {err}")
    readable = readable_roots()

    try:
        set_limits(settings)
    except (OSError, ValueError) as err:
        problems.append(f"resource limits: {err}")
    try:
        leave_network()
    except OSError as err:
        problems.append(f"network isolation: {err}")
    try:
        apply_landlock(readable, [os.getcwd(), str(home), "/dev", *socket_dirs])
    except OSError as err:
        problems.append(f"file-system isolation (Landlock): {err}")

    if problems:
        message = "classgrader sandbox NOT fully set up: " + "; ".join(problems)
        print(("REFUSING TO START: " if strict else "WARNING: ") + message, file=sys.stderr, flush=True)
        if strict:
            raise SystemExit(3)
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file,
                              "--HistoryManager.hist_file=:memory:",
                              "--IPKernelApp.exec_lines=import classgrader.grade.guard"])


def install_kernel_spec(prefix: str = sys.prefix) -> Path:
    """Install the sandboxed kernel spec into ``<prefix>/share/jupyter/kernels``."""
    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory() as folder:
        spec = {
            "argv": [sys.executable, "-m", "classgrader.grade.sandbox", "-f", "{connection_file}"],
            "display_name": "Python 3 (calculus-for-ml grading sandbox)",
            "language": "python",
            "metadata": {"debugger": False},
        }
        Path(folder, "kernel.json").write_text(json.dumps(spec, indent=1))
        path = KernelSpecManager().install_kernel_spec(folder, KERNEL_NAME, prefix=prefix, replace=True)
    return Path(path)


if __name__ == "__main__":
    main(sys.argv[1:])


_PROBE = r'''
import json, os, socket, sys
from classgrader.grade import sandbox
secret, work = sys.argv[1], sys.argv[2]
report = {}
try:
    sandbox.set_limits(sandbox.Sandbox())
    report["limits"] = "ok (memory, CPU time, file size, processes)"
except Exception as err:
    report["limits"] = f"unavailable: {err}"
try:
    how = sandbox.leave_network()
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=1).close()
        report["network"] = "NOT isolated: a connection succeeded"
    except OSError as err:
        report["network"] = f"ok ({how}: {err.strerror or err})"
except Exception as err:
    report["network"] = f"unavailable: {err}"
try:
    abi = sandbox.apply_landlock(sandbox.readable_roots(), [work])
    try:
        open(secret).read()
        report["filesystem"] = "NOT isolated: a protected file was read"
    except PermissionError:
        report["filesystem"] = f"ok (Landlock ABI {abi})"
except Exception as err:
    report["filesystem"] = f"unavailable: {err}"
print(json.dumps(report))
'''


def probe() -> dict[str, str]:
    """Try every sandbox layer in a throw-away process: layer -> "ok (...)" or what is wrong."""
    import subprocess

    with tempfile.TemporaryDirectory() as folder:
        secret = Path(folder, "secret.txt")
        secret.write_text("hidden tests")
        work = Path(folder, "work")
        work.mkdir()
        completed = subprocess.run([sys.executable, "-c", _PROBE, str(secret), str(work)],
                                   capture_output=True, text=True, timeout=60)
    try:
        return json.loads(completed.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"sandbox": f"unavailable: the probe failed: {completed.stderr.strip()[-300:]}"}
