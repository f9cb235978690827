"""Kernel manager for grading: IPC transport in a private folder.

Over IPC the kernel and the grader talk through Unix sockets in a fresh temporary folder, so there
are no TCP ports to clash when many notebooks are graded at once, no unencrypted TCP traffic, and
the kernel keeps working inside a network namespace that has no network at all.
"""
from __future__ import annotations

import os
import shutil
import tempfile

from jupyter_client.manager import AsyncKernelManager


class IPCKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernels listen on Unix sockets in their own temporary folder."""

    def __init__(self, **kwargs):
        self._socket_dir = tempfile.mkdtemp(prefix="classgrader-ipc-")
        kwargs.setdefault("transport", "ipc")
        kwargs.setdefault("ip", os.path.join(self._socket_dir, "kernel"))
        kwargs.setdefault("connection_file", os.path.join(self._socket_dir, "connection.json"))
        super().__init__(**kwargs)

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        try:
            await super()._async_shutdown_kernel(now=now, restart=restart)
        finally:
            if not restart:
                shutil.rmtree(self._socket_dir, ignore_errors=True)

    shutdown_kernel = _async_shutdown_kernel
