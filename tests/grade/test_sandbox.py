"""The sandbox's layers, seen from inside a kernel started through the course's kernel manager."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from classgrader.grade import sandbox, zygote
from classgrader.grade.probe import probe
from classgrader.model.course import REPO_ROOT, Course
from kernel_support import Kernel, machine_lacks_namespaces, run

pytestmark = pytest.mark.skipif(not sandbox.supported(), reason="the sandbox needs Linux")
LAYERS = {"user namespace", "mounts", "processes", "network", "ipc", "hostname", "isolated start", "limits", "filesystem", "identity"}


def _require_full_sandbox() -> None:
    if machine_lacks_namespaces():
        pytest.skip(machine_lacks_namespaces())
    if sandbox.landlock_abi() < 1:
        pytest.skip("Landlock is not available on this kernel")


def test_probe_reports_every_layer_and_each_holds():
    report = probe()
    assert LAYERS <= set(report), f"layers not reported: {LAYERS - set(report)}"
    _require_full_sandbox()
    assert all(state.startswith("ok") for state in report.values()), report


AS_ANOTHER_USER = r"""
import json, os, sys
from classgrader.grade import sandbox
sandbox._mount(None, "/", None, sandbox._MS_REC | sandbox._MS_PRIVATE)
keep = sys.argv[1:]
for folder in sandbox.unreachable_folders(keep, 65534, 65534):  # e.g. Python under /root (0700)
    sandbox.cover(folder, keep, "mode=0755")
os.chdir("/")
os.setgroups([]); os.setgid(65534); os.setuid(65534)
from classgrader.grade.probe import probe
print(json.dumps(probe()))
"""


def test_probe_without_root_uses_a_user_namespace():
    """The same layers for a grader that is not root (an instructor's laptop, CI's runner user)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare to run the probe as another user here")
    _require_full_sandbox()
    # What a kernel may read (Python, the course's code): kept visible under any folder the other
    # user could not enter (a clone made with mktemp -d is 0700), as the zygote does for a kernel.
    keep = sandbox.readable_roots()
    done = subprocess.run(["unshare", "--mount", sys.executable, "-I", "-c", AS_ANOTHER_USER, *keep],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["user namespace"].startswith("ok"), report
    assert all(state.startswith("ok") for state in report.values()), report
    assert report["identity"] == "ok (uid 65534, no capabilities)", report


def test_strict_mode_is_one_fact(monkeypatch):
    monkeypatch.delenv(sandbox.STRICT_ENV, raising=False)
    assert not sandbox.strict(sandbox.Sandbox())
    assert sandbox.strict(sandbox.Sandbox(strict=True))
    monkeypatch.setenv(sandbox.STRICT_ENV, "1")
    assert sandbox.strict(sandbox.Sandbox()) and sandbox.strict(None)


def test_strict_kernel_refuses_to_start_without_a_layer():
    code = ("from classgrader.grade import zygote\n"
            "zygote._refuse_or_warn({'limits': 'ok', 'network': 'unavailable: no unshare'}, strict=True)\n"
            "print('started anyway')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == zygote.REFUSED and "started anyway" not in done.stdout
    assert "REFUSING TO START" in done.stderr and "network: unavailable: no unshare" in done.stderr
    lenient = subprocess.run([sys.executable, "-c", code.replace("strict=True", "strict=False")],
                             capture_output=True, text=True, timeout=60)
    assert lenient.returncode == 0 and "started anyway" in lenient.stdout and "WARNING" in lenient.stderr


def test_strict_grading_refuses_when_the_probe_finds_a_missing_layer(monkeypatch, capsys):
    from classgrader import cli
    import classgrader.grade.probe

    monkeypatch.setattr(classgrader.grade.probe, "probe", lambda settings=None: {"network": "unavailable: test"})
    monkeypatch.setenv(sandbox.STRICT_ENV, "1")
    assert cli._sandbox_ready(Course(REPO_ROOT)) is False
    assert "refusing to grade" in capsys.readouterr().err
    monkeypatch.delenv(sandbox.STRICT_ENV)
    assert cli._sandbox_ready(Course(REPO_ROOT)) is True


INSIDE = r"""
import json, os, socket, sys
seen = {"uid": os.getuid(), "dev": sorted(os.listdir("/dev")),
        "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "cwd_on_path": "" in sys.path or os.getcwd() in sys.path, "numpy": __import__("numpy").__file__}
for name, attempt in {
    "read_course": lambda: open(COURSE + "/nbgrader_config.py").read(),
    "write_course": lambda: open(COURSE + "/pwned-by-kernel.txt", "w").write("x"),
    "shadow_module": lambda: __import__("shadow_probe"),
    "tcp": lambda: socket.create_connection(("127.0.0.1", PORT), timeout=2),
    "host_disk": lambda: open("/dev/vda", "rb").read(1),
}.items():
    try:
        attempt()
        seen[name] = "succeeded"
    except BaseException as err:
        seen[name] = type(err).__name__
judge = socket.socket(socket.AF_UNIX)
judge.connect(SOCKET)
judge.sendall(b"hello from the kernel")
judge.close()
print(json.dumps(seen))
"""


def test_the_kernel_is_confined(tmp_path):
    _require_full_sandbox()
    (tmp_path / "shadow_probe.py").write_text("print('a module next to the notebook was imported')")
    (tmp_path / "numpy").mkdir()
    (tmp_path / "numpy" / "__init__.py").write_text("raise RuntimeError('shadowed numpy')")
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    received = []

    async def check():
        async with Kernel(tmp_path) as kernel:
            judge = socket.socket(socket.AF_UNIX)  # as the judge does it
            judge.bind(os.path.join(kernel.km.socket_dir, "judge.sock"))
            os.chmod(os.path.join(kernel.km.socket_dir, "judge.sock"), 0o666)
            judge.listen(1)
            reader = threading.Thread(target=lambda: received.append(judge.accept()[0].recv(100)))
            reader.start()
            code = INSIDE.replace("COURSE", repr(str(REPO_ROOT))).replace("PORT", str(server.getsockname()[1]))
            result = await kernel.run(code.replace("SOCKET", repr(os.path.join(kernel.km.socket_dir, "judge.sock"))))
            reader.join(timeout=30)
            judge.close()
            return json.loads(result["stdout"].strip().splitlines()[-1])
    seen = run(check())
    with pytest.raises(socket.timeout):
        server.accept()
    server.close()
    assert received == [b"hello from the kernel"], "the kernel reaches a socket the grader makes in socket_dir"
    assert seen["dev"] == sorted([*sandbox.DEVICES, *sandbox.DEVICE_LINKS, "shm"])
    assert seen["pids"] == [1]
    assert seen["uid"] != 0
    assert not seen["cwd_on_path"] and "site-packages" in seen["numpy"]
    assert seen["shadow_module"] == "ModuleNotFoundError"
    unreachable = ("PermissionError", "FileNotFoundError")  # Landlock, or not even in the kernel's view
    assert seen["read_course"] in unreachable and seen["write_course"] in unreachable
    assert seen["host_disk"] == "FileNotFoundError"
    assert seen["tcp"] in ("OSError", "ConnectionRefusedError", "PermissionError")
    assert not (REPO_ROOT / "pwned-by-kernel.txt").exists()
    if os.geteuid() == 0:
        assert seen["uid"] == sandbox.Sandbox().uid
        assert all(p.stat().st_uid == 0 for p in [tmp_path, *tmp_path.iterdir()]), "the folder is given back"


HOLD_PROCESSES = """
import os, time
held = 0
for _ in range(LIMIT):
    try:
        if os.fork() == 0:
            time.sleep(120)
            os._exit(0)
        held += 1
    except OSError:
        break
print(held)
"""


def test_each_kernel_has_its_own_process_limit(tmp_path):
    """A fork bomb is stopped by the process limit, and it does not starve the next kernel."""
    _require_full_sandbox()
    from traitlets.config import Config

    config = Config()
    config.Sandbox.max_processes = 40
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    async def check():
        async with Kernel(tmp_path / "a", config=config) as bomb, Kernel(tmp_path / "b", config=config) as other:
            held = int((await bomb.run(HOLD_PROCESSES.replace("LIMIT", "1000")))["stdout"])
            assert 10 < held < 40, f"the process limit did not stop the bomb at 40: {held}"
            spared = int((await other.run(HOLD_PROCESSES.replace("LIMIT", "20")))["stdout"])
            assert spared == 20, "another kernel of the same user could not start processes"
    run(check())
