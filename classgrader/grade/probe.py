"""``classgrader sandbox-check``: set up every sandbox layer in a throw-away kernel and check each.

:func:`probe` forks one kernel from a cold zygote (the same code path as grading, without the
imports), which sets up the layers and, instead of becoming an IPython kernel, runs
:func:`inside`: for each layer that says it is up, an attempt to get through it. The result maps
each layer to ``"ok (...)"`` or to what is missing or broken.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from classgrader.grade import kernels, sandbox, zygote


def _course_file() -> Path:
    """A file of the course that the kernel must not read (the course's own nbgrader_config.py)."""
    import classgrader

    return Path(classgrader.__file__).resolve().parents[1] / "nbgrader_config.py"


def _broken(report: dict[str, str], layer: str, why: str) -> None:
    if report.get(layer, "").startswith("ok"):
        report[layer] = f"NOT isolated: {why}"


def _network(report: dict[str, str]) -> None:
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=1).close()
        _broken(report, "network", "a loopback connection succeeded")
    except OSError:
        pass
    names = [name for _index, name in socket.if_nameindex()]
    if names != ["lo"]:
        _broken(report, "network", f"network interfaces are visible: {names}")


def _files(report: dict[str, str], marker: str) -> None:
    secret = _course_file()
    if secret.is_file() and not any(sandbox.within(str(secret), r) for r in sandbox.readable_roots()):
        try:
            secret.read_text()
            _broken(report, "filesystem", f"the course's {secret.name} was read")
        except OSError:
            pass
    if os.path.exists(marker):
        _broken(report, "mounts", "the grader's /tmp is visible")
    extra = set(os.listdir("/dev")) - set(sandbox.DEVICES) - set(sandbox.DEVICE_LINKS) - {"shm"}
    if extra:
        _broken(report, "mounts", f"/dev holds {sorted(extra)[:5]}")


def _process(report: dict[str, str], launch: zygote.Launch) -> None:
    others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
    if os.getpid() != 1 or others:
        _broken(report, "processes", f"pid {os.getpid()}, other processes visible: {others[:5]}")
    if os.geteuid() == 0 or sandbox.effective_capabilities():
        _broken(report, "identity", f"uid {os.geteuid()}, capabilities {sandbox.effective_capabilities():#x}")
    if "" in sys.path or any(sandbox.within(p, launch.cwd) for p in sys.path):
        _broken(report, "isolated start", "the submission's folder is on sys.path")


def inside(report: dict[str, str], launch: zygote.Launch) -> dict[str, str]:
    """In the probe's kernel, after the layers are set up: try to get through each of them."""
    _network(report)
    _files(report, os.path.join(os.path.dirname(launch.socket_dir), "marker"))
    _process(report, launch)
    return report


def probe(settings: sandbox.Sandbox | None = None) -> dict[str, str]:
    """Try every sandbox layer in a throw-away kernel: layer -> "ok (...)" or what is wrong."""
    if not sandbox.supported():
        return {"sandbox": f"unavailable: no sandbox on {sys.platform}"}
    settings = settings or sandbox.Sandbox()
    root = kernels.private_folder()
    cold = None
    try:
        work, sockets = os.path.join(root, "work"), os.path.join(root, "sockets")
        os.mkdir(work)
        os.mkdir(sockets)
        Path(root, "marker").write_text("the grader's temporary folder")
        for folder in (work, sockets):
            kernels._lend(folder, sandbox.kernel_user(settings.limits()))
        result = os.path.join(sockets, "probe.json")
        cold = zygote.Zygote(cold=True)
        launch = zygote.Launch([], work, sockets, settings.limits(), probe=result)
        kernels.ForkedProcess(launch, cold).wait(timeout=60)
        return json.loads(Path(result).read_text())
    except (OSError, ValueError, subprocess.TimeoutExpired, zygote.ZygoteError) as err:
        return {"sandbox": f"unavailable: the probe failed: {err}"}
    finally:
        if cold:
            cold.close()
        shutil.rmtree(root, ignore_errors=True)
