"""Run code in a grading kernel started through the course's kernel manager (for tests/grade)."""
from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import subprocess
from pathlib import Path

from classgrader.grade.kernels import ForkedKernelManager


class Kernel:
    """A started :class:`ForkedKernelManager` kernel and its client; use as an async context manager."""

    def __init__(self, cwd: Path, **manager_options):
        self.cwd = cwd
        self.km = ForkedKernelManager(**manager_options)
        self.kc = None

    async def __aenter__(self) -> "Kernel":
        await self.km.start_kernel(cwd=str(self.cwd))
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=120)
        return self

    async def run(self, code: str, timeout: float = 60) -> dict:
        """Run ``code``; its status, stdout text, error name and displayed MIME types.

        Sent with ``stop_on_error=False``, as nbgrader's Execute (allow_errors) sends every cell:
        otherwise ipykernel aborts a request that arrives while it is still dropping the queue of
        an interrupted cell, which a loaded machine makes likely.
        """
        outputs: list[dict] = []
        reply = await self.kc.execute_interactive(code, timeout=timeout, output_hook=outputs.append,
                                                  stop_on_error=False)
        streams = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
        shown = [k for m in outputs if m["msg_type"] == "display_data" for k in m["content"]["data"]]
        return {"status": reply["content"]["status"], "stdout": streams,
                "error": reply["content"].get("ename", ""), "shown": shown}

    async def value(self, expression: str):
        """The JSON value that ``print(json.dumps(expression))`` prints in the kernel."""
        result = await self.run(f"import json as _j\nprint(_j.dumps({expression}))")
        assert result["status"] == "ok", result
        return json.loads(result["stdout"].strip().splitlines()[-1])

    async def __aexit__(self, *exc) -> None:
        self.kc.stop_channels()
        if await self.km.is_alive():
            await self.km.shutdown_kernel(now=True)
        await self.km.cleanup_resources()


def run(coroutine):
    return asyncio.run(coroutine)


def processes_with(marker: str) -> list[int]:
    """PIDs (on this machine) whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@functools.cache
def machine_lacks_namespaces() -> str:
    """Why this machine cannot give a process its own mount, PID and network namespaces ("" if it
    can), asked of util-linux's ``unshare``, independently of the course's code."""
    if not shutil.which("unshare"):
        return "no unshare command to check whether namespaces work here"
    command = ["unshare", "--mount", "--pid", "--net", "--fork", "--mount-proc"]
    if os.geteuid() != 0:
        command.insert(1, "--map-root-user")
    done = subprocess.run(command + ["true"], capture_output=True, text=True)
    return "" if done.returncode == 0 else f"namespaces are not available here: {done.stderr.strip()}"
