"""The grading kernel's sandbox (Linux): the layers a kernel is put in before student code runs.

Each notebook is graded in a fresh fork of a warm, trusted process (:mod:`classgrader.grade.zygote`);
the fork puts itself in these layers, in this order, and only then becomes an IPython kernel:

1. **namespaces** (:func:`enter_namespaces`): a new mount, PID, network, IPC and UTS namespace (and,
   without root, a user namespace that owns them). The kernel is PID 1 of its PID namespace, so
   every process the submission starts dies with it. The network namespace has nothing but a
   loopback that is down: the kernel talks to the grader over Unix sockets.
2. **private view** (:func:`private_view`): a fresh tmpfs on ``/tmp`` and on ``/dev/shm`` (gone with
   the kernel), a ``/dev`` holding only ``null zero full random urandom shm`` and the ``fd``/
   ``stdin``/``stdout``/``stderr`` links, ``/proc`` showing only the kernel's own processes, and
   folders the kernel's user could not reach (``/root`` holding the Python installation, a
   private course copy) replaced by a tmpfs into which only what the kernel needs is bound back.
3. **limits** (:func:`set_limits`): address space, CPU seconds, file size, processes, no core dumps.
4. **Landlock** (:func:`apply_landlock`): read access to the system, the Python installation and the
   course's own code; read-write access only to the submission's folder, the kernel's socket folder
   and the private ``/tmp`` and ``/dev/shm``. Where the kernel supports it, TCP connects and
   signals to processes outside are refused as well.
5. **identity** (:func:`drop_identity`): run by root, the kernel switches to an unprivileged user
   (``Sandbox.uid``, 65534 by default), so that root's powers are gone and the process limit
   binds; run by another user, it drops the capabilities its user namespace gave it.

Each layer that cannot be set up is reported on stderr (which reaches the grader's log); in strict
mode (:func:`strict`) the kernel refuses to start instead. :func:`probe` tries every layer in a
throw-away kernel and checks from inside that each one holds (``classgrader sandbox-check``).
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import stat
import sys
from pathlib import Path

from traitlets import Bool, Integer
from traitlets.config import Configurable

#: Environment variable that turns strict mode on (``classgrader grade --strict`` sets it).
STRICT_ENV = "CLASSGRADER_SANDBOX_STRICT"
#: Device nodes the kernel's private ``/dev`` keeps.
DEVICES = ("null", "zero", "full", "random", "urandom")
#: Links of the kernel's private ``/dev``.
DEVICE_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
                "stderr": "/proc/self/fd/2"}

# --- Linux constants (include/uapi/linux/{landlock,sched,mount,prctl,capability}.h) -------------
_SYS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_ALL_ABI1 = (1 << 13) - 1
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS = 1, 38
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x20000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
_CAP_VERSION_3 = 0x20080522
#: The namespaces a kernel gets, each a layer of its own: name -> (clone flag, what it gives).
NAMESPACES = {
    "mounts": (CLONE_NEWNS, "private /tmp, /dev/shm, /dev and /proc"),
    "processes": (CLONE_NEWPID, "PID namespace: every process dies with the kernel"),
    "network": (CLONE_NEWNET, "network namespace: no network"),
    "ipc": (CLONE_NEWIPC, "IPC namespace"),
    "hostname": (CLONE_NEWUTS, "UTS namespace"),
}


class Sandbox(Configurable):
    """Limits of the grading kernel; set them in ``nbgrader_config.py`` as ``c.Sandbox.<name>``."""

    memory_mb = Integer(4096, help="Address-space limit of the kernel, MiB.").tag(config=True)
    cpu_seconds = Integer(900, help="CPU-time limit of the kernel, seconds.").tag(config=True)
    file_size_mb = Integer(64, help="Largest file the kernel may write, MiB.").tag(config=True)
    max_processes = Integer(512, help="Process limit of the kernel's user (binds only when grading "
                            "runs as root, which switches to `uid`, or without root).").tag(config=True)
    tmp_mb = Integer(256, help="Size of the kernel's private /tmp and of its /dev/shm, MiB each.").tag(config=True)
    uid = Integer(65534, help="User that student code runs as when grading runs as root.").tag(config=True)
    gid = Integer(65534, help="Group that student code runs as when grading runs as root.").tag(config=True)
    strict = Bool(False, help="Refuse to grade when any sandbox layer cannot be set up (also: "
                  f"{STRICT_ENV}=1 or `classgrader grade --strict`).").tag(config=True)

    def limits(self) -> dict[str, int]:
        """The numbers a kernel needs, as plain data (they cross to the zygote as JSON)."""
        return {name: getattr(self, name) for name in
                ("memory_mb", "cpu_seconds", "file_size_mb", "max_processes", "tmp_mb", "uid", "gid")}


def kernel_user(limits: dict[str, int]) -> tuple[int, int] | None:
    """The (uid, gid) student code runs as: ``Sandbox.uid``/``gid`` when grading runs as root, else
    None (the grader's own user, without capabilities)."""
    return (limits["uid"], limits["gid"]) if os.geteuid() == 0 else None


def strict(settings: Sandbox | None = None) -> bool:
    """Strict mode: ``c.Sandbox.strict`` in the configuration, or ``CLASSGRADER_SANDBOX_STRICT=1``."""
    return bool(settings is not None and settings.strict) or os.environ.get(STRICT_ENV) == "1"


def supported() -> bool:
    """True where the sandbox can exist at all (Linux); elsewhere kernels run unsandboxed."""
    return sys.platform.startswith("linux")


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (PR_SET_PDEATHSIG)."""
    _check(_libc().prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")


# --- 1. namespaces ----------------------------------------------------------------------------

def apparmor_hint() -> str:
    """Why user namespaces may fail here, and how to lift it ("" when AppArmor is not the reason)."""
    try:
        if Path("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").read_text().strip() == "1":
            return (" (AppArmor restricts unprivileged user namespaces here: "
                    "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 lifts it)")
    except OSError:
        pass
    return ""


def unshare_user() -> None:
    """Move into a new user namespace (its maps are written from outside: :func:`map_user_namespace`)."""
    _check(_libc().unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")


def map_user_namespace(pid: int, user: tuple[int, int] | None) -> None:
    """From the parent namespace, map the users of process ``pid``'s new user namespace.

    ``user`` is the (uid, gid) that root switches the kernel to: root and that user are mapped
    to themselves, so that the kernel sets up its view as root, then switches. None for a grader
    that is not root: it maps only itself. Processes are counted per user namespace, so each
    kernel's process limit is its own.
    """
    if user:
        uids, gids = f"0 0 1\n{user[0]} {user[0]} 1\n", f"0 0 1\n{user[1]} {user[1]} 1\n"
    else:
        uids, gids = f"{os.geteuid()} {os.geteuid()} 1\n", f"{os.getegid()} {os.getegid()} 1\n"
        Path(f"/proc/{pid}/setgroups").write_text("deny")
    try:
        Path(f"/proc/{pid}/uid_map").write_text(uids)
        Path(f"/proc/{pid}/gid_map").write_text(gids)
    except OSError as err:
        raise OSError(err.errno, f"cannot map the user namespace: {err.strerror}{apparmor_hint()}") from None


def enter_namespaces() -> dict[str, str]:
    """Unshare every namespace of :data:`NAMESPACES` (the caller's children live in them).

    Returns
    -------
    dict
        Layer name -> "ok (...)" or "unavailable: <why>".
    """
    report = {}
    for layer, (flag, what) in NAMESPACES.items():
        try:
            _check(_libc().unshare(flag), f"unshare({layer})")
            report[layer] = f"ok ({what})"
        except OSError as err:
            report[layer] = f"unavailable: {err.strerror or err}{apparmor_hint()}"
    return report


# --- 2. the private view of the file system --------------------------------------------------

def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = (lambda s: s.encode() if s is not None else None)
    _check(_libc().mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
           f"mount {target}")


def within(path: str, folder: str) -> bool:
    """Is ``path`` the folder ``folder`` or below it?"""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def cover(point: str, keep: list[str], options: str, flags: int = _MS_NOSUID | _MS_NODEV) -> None:
    """Mount a fresh tmpfs on ``point``, then bind back each path of ``keep`` below it, in place."""
    kept = [(path, os.open(path, os.O_PATH | os.O_CLOEXEC)) for path in keep if within(path, point)]
    try:
        _mount("tmpfs", point, "tmpfs", flags, options)
        for path, fd in kept:
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(path, mode=0o755, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
                Path(path).touch()
            _mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
    finally:
        for _path, fd in kept:
            os.close(fd)


def _reachable(path: str, uid: int, gid: int) -> bool:
    """Can ``uid`` (with no supplementary groups) walk through ``path``?"""
    info = os.stat(path)
    if info.st_uid == uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid == gid:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def unreachable_folders(paths: list[str], uid: int, gid: int) -> list[str]:
    """The topmost folders above ``paths`` that ``uid`` cannot walk through (to be covered)."""
    found: list[str] = []
    for path in paths:
        parts = Path(path).parts
        for depth in range(2, len(parts)):
            folder = str(Path(*parts[:depth]))
            if any(within(folder, f) for f in found):
                break
            if not _reachable(folder, uid, gid):
                found.append(folder)
                break
    return found


def private_view(keep: list[str], tmp_mb: int, own_pids: bool, unreachable: list[str]) -> str:
    """Give this process (in a fresh mount namespace) its own /tmp, /dev/shm, /dev and /proc.

    ``keep`` are folders the kernel needs (its submission, its socket folder, what it reads):
    where one lies below a covered folder it is bound back at the same path. ``unreachable`` are
    folders that the kernel's user could not walk through (see :func:`unreachable_folders`): they
    are covered too, so that what the kernel needs stays reachable and nothing else is.
    """
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    covers = ["/tmp"] + [f for f in unreachable if not within(f, "/tmp")]
    for point in covers:
        cover(point, keep, f"size={tmp_mb}m,mode={'1777' if point == '/tmp' else '0755'}")
    cover("/dev", [f"/dev/{name}" for name in DEVICES], "size=1m,mode=0755", _MS_NOSUID | _MS_NOEXEC)
    os.mkdir("/dev/shm", 0o1777)
    _mount("tmpfs", "/dev/shm", "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={tmp_mb}m,mode=1777")
    for name, target in DEVICE_LINKS.items():
        os.symlink(target, f"/dev/{name}")
    if own_pids:
        _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    covered = ", ".join(covers[1:])
    return ("ok (private /tmp, /dev/shm, /dev" + (", /proc" if own_pids else "")
            + (f"; {covered} reduced to what the kernel reads" if covered else "") + ")")


# --- 3. limits --------------------------------------------------------------------------------

def set_limits(limits: dict[str, int]) -> str:
    mib = 1024 * 1024
    for limit, value in ((resource.RLIMIT_AS, limits["memory_mb"] * mib),
                         (resource.RLIMIT_CPU, limits["cpu_seconds"]),
                         (resource.RLIMIT_FSIZE, limits["file_size_mb"] * mib),
                         (resource.RLIMIT_NPROC, limits["max_processes"]),
                         (resource.RLIMIT_CORE, 0)):
        _soft, hard = resource.getrlimit(limit)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(limit, (value, value if limit != resource.RLIMIT_CPU else hard))
    return "ok (memory, CPU time, file size, processes, no core dumps)"


# --- 4. Landlock ------------------------------------------------------------------------------

class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 where Landlock is unavailable."""
    numbers = _SYS.get(platform.machine())
    if not numbers or not supported():
        return 0
    value = _libc().syscall(numbers[0], None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(value), 0)


def _handled(abi: int) -> int:
    return _ALL_ABI1 | (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0) | \
        (_IOCTL_DEV if abi >= 5 else 0)


def _add_rules(libc, ruleset: int, rules: list[tuple[str, int]]) -> None:
    add_rule = _SYS[platform.machine()][1]
    for path, access in rules:
        if not os.path.exists(path):
            continue
        if not os.path.isdir(path):  # a file takes only the file rights
            access &= _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        try:
            rule = _PathBeneath(access, fd)
            if libc.syscall(add_rule, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) < 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
        finally:
            os.close(fd)


def apply_landlock(read_only: list[str], read_write: list[str], devices: list[str] = ()) -> int:
    """Restrict this process (and its children) to the given paths; returns the ABI used.

    ``devices`` are files that may be read and written (``/dev/null``...) without their folder.

    Raises
    ------
    OSError
        When Landlock is unavailable or a step fails.
    """
    abi = landlock_abi()
    if abi < 1:
        raise OSError(errno.ENOSYS, "Landlock is not available on this kernel")
    create, _add, restrict = _SYS[platform.machine()]
    libc = _libc()
    handled = _handled(abi)
    attr = _RulesetAttr(handled, (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
                        (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0)
    size = 24 if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = libc.syscall(create, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    reading = _EXECUTE | _READ_FILE | _READ_DIR
    try:
        _add_rules(libc, ruleset, [(p, reading) for p in read_only] + [(p, handled) for p in read_write]
                   + [(p, _READ_FILE | _WRITE_FILE | (_TRUNCATE if abi >= 3 else 0)) for p in devices])
        _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
        if libc.syscall(restrict, ruleset, 0) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


def readable_roots() -> list[str]:
    """Folders the kernel may read: the system, the Python installation, the course's code."""
    import site

    import classgrader

    roots = ["/usr", "/lib", "/lib64", "/bin", "/etc", "/proc", "/sys", "/opt",
             sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable)),
             str(Path(classgrader.__file__).resolve().parent), *site.getsitepackages()]
    try:
        import mlviz

        roots.extend(p for p in mlviz.__path__ if os.path.isdir(p))
    except ImportError:
        pass
    return sorted({os.path.realpath(r) for r in roots if os.path.isdir(r)})


# --- 5. identity ------------------------------------------------------------------------------

class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_identity(user: tuple[int, int] | None) -> str:
    """Switch to ``user`` (uid, gid) with no groups, where root grades; then drop every capability."""
    if user:
        os.setgroups([])
        os.setgid(user[1])
        os.setuid(user[0])
        if os.getuid() == 0 or os.geteuid() == 0:
            raise OSError(errno.EPERM, "still root after setuid")
    data = (_CapData * 2)()
    _check(_libc().capset(ctypes.byref(_CapHeader(_CAP_VERSION_3, 0)), data), "capset")
    return f"ok (uid {os.getuid()}{', not root' if user else ''}, no capabilities)"


def effective_capabilities() -> int:
    """This process's effective capability mask (from /proc/self/status)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return 0
