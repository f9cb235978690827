"""The warm zygote and the forked kernel: start, run, interrupt, kill, and nothing carried over."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from classgrader.grade import kernels, sandbox, zygote
from kernel_support import Kernel, machine_lacks_namespaces, processes_with, run

pytestmark = pytest.mark.skipif(not sandbox.supported(), reason="the forked kernel needs Linux")


def needs_namespaces() -> None:
    if machine_lacks_namespaces():
        pytest.skip(machine_lacks_namespaces())


def test_zygote_is_isolated_single_threaded_and_warm(monkeypatch):
    monkeypatch.setenv("CLASSGRADER_TEST_SECRET", "grader-only")
    warm = zygote.Zygote()
    try:
        assert warm.hello["threads"] == 1
        assert {"numpy", "matplotlib.pyplot", "ipykernel.kernelapp", "mlviz"} <= set(warm.hello["preloaded"])
        pid = warm.hello["pid"]
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert command[0] == sys.executable.encode() and command[1] == b"-I"
        assert os.readlink(f"/proc/{pid}/cwd") == "/"
        environment = Path(f"/proc/{pid}/environ").read_bytes()
        assert b"CLASSGRADER_TEST_SECRET" not in environment and b"OPENBLAS_NUM_THREADS=1" in environment
        assert warm.request(op="ping")["threads"] == 1
    finally:
        warm.close()
    assert warm.process.returncode is not None, "the zygote exits when its grader closes the socket"


def test_kernel_runs_code_and_cleans_up(tmp_path):
    async def check():
        async with Kernel(tmp_path) as kernel:
            result = await kernel.run("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nprint(6 * 7)")
            assert result["status"] == "ok" and result["stdout"].strip() == "42"
            assert result["shown"] == ["text/plain"], "a figure is a note, not a picture (test_figures.py)"
            assert await kernel.value("__import__('os').getcwd()") == str(tmp_path)
            (tmp_path / "data.txt").write_text("released data")
            assert await kernel.value("open('data.txt').read()") == "released data"
            return kernel.km.socket_dir
    socket_dir = run(check())
    assert not os.path.exists(socket_dir), "the kernel's private folder is removed"


def test_nothing_of_one_run_is_visible_in_the_next(tmp_path):
    """One submission leaves state behind; the next one, in a fresh fork, sees none of it."""
    needs_namespaces()
    marker = f"600.{os.getpid()}{int(time.time()) % 1000}"
    leave = f"""
import os, sys, json, numpy, tempfile, time
numpy.leaked = 'student A'
json.leaked = 'student A'
sys.modules['leaky_module'] = json
os.environ['LEAKED_VARIABLE'] = 'student A'
for folder in ('/tmp', '/dev/shm', tempfile.gettempdir(), os.path.expanduser('~')):
    open(os.path.join(folder, 'leaked-file'), 'w').write('student A')
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv('/bin/sleep', ['sleep', '{marker}'])
    os._exit(0)
time.sleep(0.5)
print('left')
"""
    look = """
import os, sys, json, numpy, tempfile
found = [hasattr(numpy, 'leaked'), hasattr(json, 'leaked'), 'leaky_module' in sys.modules,
         'LEAKED_VARIABLE' in os.environ]
found += [os.path.exists(os.path.join(f, 'leaked-file'))
          for f in ('/tmp', '/dev/shm', tempfile.gettempdir(), os.path.expanduser('~'))]
found.append(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()) != [1])
print(json.dumps(found))
"""

    async def check():
        async with Kernel(tmp_path / "a") as kernel:
            assert (await kernel.run(leave))["stdout"].strip() == "left"
            assert processes_with(marker), "the background process runs while its kernel does"
        assert not processes_with(marker), "the background process died with its kernel"
        async with Kernel(tmp_path / "b") as kernel:
            result = await kernel.run(look)
            assert result["stdout"].strip() == "[false, false, false, false, false, false, false, false, false]", result
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    run(check())
    for folder in ("/tmp", "/dev/shm"):
        assert not os.path.exists(os.path.join(folder, "leaked-file")), f"a file leaked into the host's {folder}"


def test_interrupt_and_kill_work_as_for_an_ordinary_kernel(tmp_path):
    async def check():
        async with Kernel(tmp_path) as kernel:
            # As nbgrader sends every cell (allow_errors): with stop_on_error=True, ipykernel would
            # abort the requests that reach it just after this cell's KeyboardInterrupt.
            started = kernel.kc.execute("while True: pass", stop_on_error=False)
            time.sleep(1)
            await kernel.km.interrupt_kernel()
            reply = await kernel.kc.get_shell_msg(timeout=30)
            assert reply["parent_header"]["msg_id"] == started
            assert reply["content"]["ename"] == "KeyboardInterrupt"
            # the kernel still runs code (judged by the execute reply: on a loaded machine the
            # stream of an interrupted kernel's next cell may arrive after its idle status)
            assert (await kernel.run("x = 6 * 7"))["status"] == "ok"
            assert (await kernel.run("assert x == 42"))["status"] == "ok"
            kernel.kc.execute("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: pass",
                              stop_on_error=False)
            time.sleep(1)
            await kernel.km.interrupt_kernel()
            time.sleep(1)
            assert await kernel.km.is_alive(), "an ignored interrupt leaves the kernel running"
            await kernel.km.shutdown_kernel(now=True)
            assert not await kernel.km.is_alive()
    run(check())


def test_a_dead_kernel_is_noticed_and_cleaned_up(tmp_path):
    async def check():
        async with Kernel(tmp_path) as kernel:
            kernel.kc.execute("import os\nos._exit(3)")
            for _ in range(100):
                if not await kernel.km.is_alive():
                    break
                time.sleep(0.1)
            assert not await kernel.km.is_alive()
            assert kernel.km.provisioner.process.returncode == 3
            return kernel.km.socket_dir
    assert not os.path.exists(run(check()))


def _kernel_folders(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(kernels.PREFIX + "*"))


@pytest.fixture()
def short_tmp():
    """A temporary folder with a short path: a Unix socket's path has at most 107 characters."""
    import shutil

    folder = Path(tempfile.mkdtemp(prefix="cg-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_no_folder_is_left_behind_after_each_notebook(short_tmp, monkeypatch):
    tmp_path = short_tmp
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    work = tmp_path / "work"
    work.mkdir()

    async def check():
        for code in ("x = 1", "import os\nos._exit(0)", "open('out.txt', 'w').write('x')"):
            async with Kernel(work) as kernel:
                kernel.kc.execute(code)
                time.sleep(0.3)
            assert _kernel_folders(tmp_path) == [], f"left behind after {code!r}"
    run(check())


CRASHING_GRADER = """
import asyncio, os, sys, time
from classgrader.grade.kernels import ForkedKernelManager
async def main():
    km = ForkedKernelManager()
    await km.start_kernel(cwd=sys.argv[1])
    kc = km.client(); kc.start_channels(); await kc.wait_for_ready(timeout=120)
    print(km.socket_dir, km.provisioner.process.pid, flush=True)
    time.sleep(600)
asyncio.run(main())
"""


def test_a_killed_grader_leaves_folders_that_the_next_run_removes(short_tmp):
    """kill -9 of the grader: its kernel dies with its zygote; the next manager removes its folder."""
    tmp_path = short_tmp
    environment = {**os.environ, "TMPDIR": str(tmp_path)}
    grader = subprocess.Popen([sys.executable, "-c", CRASHING_GRADER, str(tmp_path)], env=environment,
                              stdout=subprocess.PIPE, text=True)
    try:
        socket_dir, supervisor = grader.stdout.readline().split()
    finally:
        grader.kill()
        grader.wait()
    for _ in range(100):
        if not os.path.exists(f"/proc/{supervisor}"):
            break
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{supervisor}"), "the kernel outlived its grader"
    assert _kernel_folders(tmp_path) == [Path(socket_dir).name], "the killed grader's folder is there"
    subprocess.run([sys.executable, "-c", "import asyncio\nfrom classgrader.grade.kernels import IPCKernelManager\n"
                    "asyncio.run(IPCKernelManager().cleanup_resources())"], env=environment, check=True, timeout=120)
    assert _kernel_folders(tmp_path) == [], "the next run removed the dead grader's folder"


def test_the_zygote_refuses_to_fork_with_threads():
    """A fork of a process with threads could inherit a held lock: the zygote refuses it."""
    import socket
    import threading

    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    helper.start()
    ours, theirs = socket.socketpair()
    try:
        reply = zygote._answer({"op": "spawn", "launch": {}}, set(), theirs)
        assert "threads" in reply["error"]
        assert zygote._answer({"op": "reap", "pid": 1}, set(), theirs)["error"].endswith("not a kernel of this zygote")
    finally:
        stop.set()
        helper.join()
        ours.close()
        theirs.close()


def test_supervisor_turns_sigterm_into_the_end_of_the_kernel(tmp_path):
    async def check():
        async with Kernel(tmp_path) as kernel:
            process = kernel.km.provisioner.process
            os.kill(process.pid, signal.SIGTERM)
            assert process.wait(timeout=30) == 128 + signal.SIGKILL
    run(check())


def test_a_long_temporary_folder_does_not_break_the_sockets(tmp_path, monkeypatch):
    long = tmp_path / ("x" * 80)
    long.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long))
    (tmp_path / "work").mkdir()

    async def check():
        async with Kernel(tmp_path / "work") as kernel:
            assert len(kernel.km.socket_dir) < 60
            assert (await kernel.run("print(1 + 1)"))["stdout"].strip() == "2"
    run(check())


def test_client_sockets_cap_messages_and_retry_quickly(tmp_path):
    """The grader's client sockets, not only the manager's, refuse messages over the cap."""
    import zmq

    async def check():
        async with Kernel(tmp_path) as kernel:
            for channel in (kernel.kc.shell_channel, kernel.kc.iopub_channel, kernel.kc.control_channel):
                assert channel.socket.getsockopt(zmq.MAXMSGSIZE) == kernels.MAX_KERNEL_MESSAGE
                assert channel.socket.getsockopt(zmq.RECONNECT_IVL) == kernels.RECONNECT_MS
            assert (await kernel.run("print('first output after ready')"))["stdout"] == "first output after ready\n"
    run(check())


WORKER_WAITS = '''
import ctypes, os, sys
from concurrent.futures import ProcessPoolExecutor
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)   # PR_SET_CHILD_SUBREAPER: orphans come here

def start():
    from classgrader.grade import zygote
    return zygote.shared().process.pid

with ProcessPoolExecutor(1) as pool:
    zygote_pid = pool.submit(start).result()
orphans = []
while True:
    try:
        orphans.append(os.waitpid(-1, 0)[0])
    except ChildProcessError:
        break
print(zygote_pid in orphans)
'''


def test_a_pool_worker_waits_for_its_zygote():
    """A process-pool worker ends without atexit handlers; its zygote is still closed and waited for
    (one left to init would also take its kernels' CPU time out of every measurement)."""
    done = subprocess.run([sys.executable, "-c", WORKER_WAITS], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False", "the worker's zygote was orphaned, not waited for"
