"""Helpers for ``test_browser.py``: Chromium, Playwright, a JupyterLab server and the notebook UI.

Everything here drives the real student front end: a ``jupyter lab`` server started from the
running environment on loopback, Debian's Chromium driven by Playwright's Python client, and
the nbgrader labextension's *Validate* button. Nothing is downloaded except, when missing, the
``chromium`` Debian package and the ``playwright`` Python package (never ``playwright install``).
"""
from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat

from classgrader.model.course import tool_environment

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
MAX_SCREENSHOT_HEIGHT = 16_000          # Chromium's texture limit is 16,384 px
# the elements that scroll a notebook (JupyterLab 4: the windowed panel's outer box)
SCROLLERS = ".jp-NotebookPanel .jp-WindowedPanel-outer, .jp-NotebookPanel .jp-Notebook"

# A code cell that draws one of the course's pictures calls an mlviz function.
FIGURE_CALL = re.compile(r"\b(plot_\w+|animate_\w+|learning_rate_slider)\s*\(")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

# The nbgrader labextension's texts (nbgrader 0.9, @jupyter/nbgrader: function k in its bundle).
VALIDATE_SUCCESS = "Success! Your notebook passes all the tests."
VALIDATE_FAILED_CELL = "The following cell failed:"


# --------------------------------------------------------------------------- the tools
def _tail(text: str, lines: int = 15) -> str:
    return "\n".join((text or "").strip().splitlines()[-lines:])


def ensure_chromium() -> str | None:
    """Install Debian's chromium when it is missing; the reason it is unavailable, or None."""
    if Path(CHROMIUM).exists():
        return None
    if not shutil.which("apt-get"):
        return f"{CHROMIUM} is missing and there is no apt-get to install it"
    if os.geteuid() != 0:
        return f"{CHROMIUM} is missing and we are not root (run: apt-get install -y chromium)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log = []
    for command in (["apt-get", "install", "-y", "-q", "chromium"],
                    ["apt-get", "update", "-q"],
                    ["apt-get", "install", "-y", "-q", "chromium"]):
        if Path(CHROMIUM).exists():
            break
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as err:
            log.append(f"$ {' '.join(command)}: {err}")
            continue
        log.append(f"$ {' '.join(command)} -> exit {done.returncode}\n{_tail(done.stdout + done.stderr)}")
    if Path(CHROMIUM).exists():
        return None
    return "could not install chromium with apt-get:\n" + "\n".join(log)


def ensure_playwright() -> str | None:
    """Make ``playwright`` importable (pip-installing it if needed); the reason it is not, or None."""
    try:
        importlib.import_module("playwright.sync_api")
        return None
    except ImportError:
        pass
    try:
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                               "--disable-pip-version-check", "playwright>=1.45,<2"],
                              capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"playwright is not installed and pip could not run: {err}"
    importlib.invalidate_caches()
    try:
        importlib.import_module("playwright.sync_api")
        return None
    except ImportError as err:
        return (f"playwright is not installed and `pip install playwright` failed "
                f"(exit {done.returncode}): {err}\n{_tail(done.stdout + done.stderr)}")


# --------------------------------------------------------------------------- the server
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


@dataclass
class LabServer:
    """A running ``jupyter lab`` (see :func:`jupyter_lab`)."""

    process: subprocess.Popen
    port: int
    token: str
    root: Path
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """The JupyterLab URL opening ``path`` (relative to the root) with a reset workspace."""
        return f"{self.base}/lab/tree/{path}?reset&token={self.token}"

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(f"{self.base}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return _tail(self.log.read_text(encoding="utf-8", errors="replace"), lines)
        except OSError:
            return "(no server log)"

    def shutdown_kernels(self) -> None:
        """End every notebook session (and its kernel), so the next page starts afresh."""
        for session in self.api("GET", "/api/sessions") or []:
            with contextlib.suppress(urllib.error.URLError):
                self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels") or []:
            with contextlib.suppress(urllib.error.URLError):
                self.api("DELETE", f"/api/kernels/{kernel['id']}")


@contextlib.contextmanager
def jupyter_lab(root: Path, scratch: Path, startup_timeout: float = 90.0, *,
                python: str = sys.executable, as_user: tuple[int, int] | None = None,
                base_env: dict[str, str] | None = None):
    """Run ``jupyter lab`` of the running environment on loopback, serving ``root``.

    ``python`` picks another environment's JupyterLab; ``as_user`` (uid, gid; needs root) runs
    the server as that OS user, with ``scratch`` handed over to it; ``base_env`` replaces the
    inherited environment (the Jupyter folders below are set on top of it).

    Jupyter's config, data, runtime and IPython folders are fresh folders under ``scratch``,
    so nothing from the user's home is read; the environment's own (``sys.prefix``) config
    and data still apply, which is where the nbgrader labextension and server extensions are
    installed and enabled. News, update checks and the PyPI extension manager are off, and
    notebooks are rendered without windowing so every cell is in the page.
    """
    config = scratch / "jupyter-config"
    settings = config / "lab" / "user-settings" / "@jupyterlab"
    _write_json(settings / "notebook-extension" / "tracker.jupyterlab-settings",
                {"windowingMode": "none"})
    _write_json(settings / "apputils-extension" / "notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})
    for name in ("jupyter-data", "jupyter-runtime", "ipython"):
        (scratch / name).mkdir(parents=True, exist_ok=True)
    inherited = tool_environment() if base_env is None else dict(base_env)
    env = {
        **inherited,
        # the python3 kernel spec runs `python`: the environment's own comes first
        "PATH": str(Path(python).parent) + os.pathsep + inherited.get("PATH", ""),
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_DATA_DIR": str(scratch / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(scratch / "jupyter-runtime"),
        "IPYTHONDIR": str(scratch / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    port, token = free_port(), secrets.token_hex(16)
    command = [
        python, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.open_browser=False",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--LanguageServerManager.autodetect=False",
    ]
    user = {}
    if as_user:
        uid, gid = as_user
        for folder, dirs, files in os.walk(scratch):
            for name in [".", *dirs, *files]:
                os.chown(os.path.join(folder, name), uid, gid)
        user = dict(user=uid, group=gid, extra_groups=[])
    elif os.geteuid() == 0:
        command.append("--allow-root")
    log = scratch / "jupyter-lab.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(command, cwd=root, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log_file, stderr=subprocess.STDOUT,
                                   start_new_session=True, **user)
    server = LabServer(process, port, token, root, log)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n"
                                   f"{server.log_tail()}")
            try:
                server.api("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not answer /api/status within "
                                       f"{startup_timeout:.0f} s:\n{server.log_tail()}") from None
                time.sleep(0.5)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """Stop the server we started, then anything left in its process group (its kernels)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)   # its own group (start_new_session)


# --------------------------------------------------------------------------- the browser
@contextlib.contextmanager
def chromium_context(user_data_dir: Path):
    """A Playwright browser context of Debian's Chromium with a fresh profile."""
    from playwright.sync_api import sync_playwright

    user_data_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        # Playwright takes the profile folder as an argument, not as --user-data-dir.
        context = playwright.chromium.launch_persistent_context(
            str(user_data_dir), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport=VIEWPORT, device_scale_factor=1, accept_downloads=False,
        )
        try:
            yield context
        finally:
            context.close()


# --------------------------------------------------------------------------- notebooks
WRITTEN_ANSWER = "A written answer, typed in by a test (graded by hand)."


def answered(nb, solutions_module: str, written: str = WRITTEN_ANSWER):
    """A released notebook answered from the solutions package; written answers get ``written``.

    ``fill_from_solutions`` answers the code cells only, and nbgrader's Validate rightly
    reports a written answer still reading "YOUR ANSWER HERE" as not provided.
    """
    from classgrader.model.notebooks import fill_from_solutions

    filled = fill_from_solutions(nb, solutions_module)
    for cell in filled.cells:
        if cell.cell_type == "markdown" and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell.source = written
    return filled


def code_cells(nb) -> list[tuple[int, object]]:
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def figure_cells(nb) -> list[int]:
    """Indices of the code cells that draw a picture with mlviz."""
    return [i for i, c in code_cells(nb) if FIGURE_CALL.search(c.source)]


def first_solution_function(nb) -> str:
    """Name of the first function defined in a solution code cell."""
    import ast

    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.FunctionDef):
                    return node.name
    raise LookupError("no solution cell defines a function")


def error_outputs(nb) -> list[tuple[int, str, str]]:
    """(cell index, ename, evalue) of every error output."""
    return [(i, o.get("ename", ""), o.get("evalue", ""))
            for i, c in code_cells(nb) for o in c.get("outputs", [])
            if o.get("output_type") == "error"]


def has_picture(cell) -> bool:
    """True when a code cell's outputs hold an image or a widget view."""
    for output in cell.get("outputs", []):
        if output.get("output_type") in ("display_data", "execute_result"):
            data = output.get("data", {})
            if any(k.startswith("image/") for k in data) or WIDGET_MIME in data:
                return True
    return False


def describe(nb, index: int) -> str:
    cell = nb.cells[index]
    meta = cell.get("metadata", {}).get("nbgrader", {})
    first = (cell.source.strip().splitlines() or [""])[0][:80]
    gid = f" (grade_id {meta['grade_id']})" if meta.get("grade_id") else ""
    return f"cell {index}{gid}: {first!r}"


# --------------------------------------------------------------------------- the notebook UI
PROMPTS_JS = """() => Array.from(document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')).map(
    c => { const p = c.querySelector('.jp-InputPrompt'); return p ? p.textContent.trim() : ''; })"""

# An error output's text in the page (JupyterLab shows errors and stderr with one MIME type;
# a warning on stderr is not an error).
ERROR_RE = r"/Traceback \(most recent call last\)|(^|\n)\s*\w*(Error|Exception)\b(:|$)/"

KERNEL_IDLE_JS = """() => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    const ind = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
    return !!ind && ind.getAttribute('data-status') === 'idle'
        && /Idle/.test(ind.textContent || '');
}"""


class NotebookPage:
    """One JupyterLab tab showing one notebook, driven like a student would."""

    def __init__(self, page, server: LabServer, path: str, nb):
        self.page, self.server, self.path, self.nb = page, server, path, nb
        self.file = server.root / path

    # -- opening
    def open(self, timeout: float = 120.0) -> None:
        page = self.page
        page.goto(self.server.url(self.path), wait_until="domcontentloaded",
                  timeout=timeout * 1000)
        n = len(self.nb.cells)
        page.wait_for_function(
            f"() => document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell').length === {n}",
            timeout=timeout * 1000)
        self.wait_kernel_idle(timeout)
        page.wait_for_selector(".jp-NotebookPanel .validate-button", timeout=30_000)
        # close the file browser so the notebook has the width (View > Show Left Sidebar)
        with contextlib.suppress(Exception):
            if page.locator("#jp-left-stack:not(.lm-mod-hidden)").count():
                page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").first.click()
        self.cell(0).locator(".jp-InputPrompt").first.click()   # select, in command mode
        page.keyboard.press("Escape")

    def wait_kernel_idle(self, timeout: float = 120.0) -> None:
        self.page.wait_for_function(KERNEL_IDLE_JS, timeout=timeout * 1000)

    def cell(self, index: int):
        return self.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)

    def prompts(self) -> list[str]:
        return self.page.evaluate(PROMPTS_JS)

    # -- running
    def active_index(self) -> int:
        return self.page.evaluate("""() => Array.from(document.querySelectorAll(
            '.jp-NotebookPanel .jp-Notebook .jp-Cell')).findIndex(
            c => c.classList.contains('jp-mod-active'))""")

    def run_each_cell(self, cell_timeout: float = 180.0) -> None:
        """Run the cells one at a time from the top with Shift+Enter, like a student would.

        *Run All Cells* stops at the first error (JupyterLab sends ``stop_on_error``), so a
        released notebook, whose first exercise raises, is run cell by cell, waiting for each
        code cell's execution count before pressing Shift+Enter on the next one (the last cell
        gets Ctrl+Enter, which does not add a cell below).
        """
        page, last = self.page, len(self.nb.cells) - 1
        for index, cell in enumerate(self.nb.cells):
            self._select(index)
            page.keyboard.press("Control+Enter" if index == last else "Shift+Enter")
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if not self._started(index):
                # The key press never reached the cell (a busy page can drop it while the
                # kernel connects): select the cell again and run it without moving on.
                self._select(index, force=True)
                page.keyboard.press("Control+Enter")
                if index != last:
                    page.keyboard.press("Escape")
            try:
                page.wait_for_function(f"() => /\\[\\d+\\]/.test(({PROMPTS_JS})()[{index}])",
                                       timeout=cell_timeout * 1000)
            except Exception as err:  # noqa: BLE001 - reported with the cell
                raise AssertionError(f"{self.path}: {describe(self.nb, index)} did not finish "
                                     f"within {cell_timeout:.0f} s (prompt "
                                     f"{self.prompts()[index]!r}; {self._dialogs()}): {err}") from None
        self.wait_kernel_idle()

    def _select(self, index: int, force: bool = False) -> None:
        """Make cell ``index`` the active one, in command mode (by clicking its prompt)."""
        if force or self.active_index() != index:
            self.cell(index).locator(".jp-InputPrompt").first.click()
            self.page.keyboard.press("Escape")

    def _started(self, index: int, timeout: float = 20.0) -> bool:
        """True once cell ``index`` is queued, running or done (its prompt is not ``[ ]``)."""
        try:
            self.page.wait_for_function(
                f"() => /\\[(\\d+|\\*)\\]/.test(({PROMPTS_JS})()[{index}])",
                timeout=timeout * 1000)
            return True
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: not started
            return False

    def _dialogs(self) -> str:
        """The text of any dialog JupyterLab shows (a cause for lost key presses)."""
        texts = self.page.evaluate(
            "() => Array.from(document.querySelectorAll('.jp-Dialog')).map(d => d.innerText)")
        return "dialogs: " + (" | ".join(t.strip()[:200] for t in texts) if texts else "none")

    def run_all_from_menu(self, timeout: float = 600.0) -> None:
        """Run > Run All Cells, then wait until no cell is queued or running."""
        page = self.page
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.locator("#jp-mainmenu-run .lm-Menu-item").filter(
            has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$"))).click()
        runnable = [i for i, c in code_cells(self.nb) if c.source.strip()]
        last = runnable[-1]
        # done when nothing is queued ([*]) and either the last cell has a count or an error
        # stopped the run (the cells after it are then aborted and keep an empty prompt)
        page.wait_for_function(
            f"""() => {{
                const p = ({PROMPTS_JS})();
                if (p.some(t => t.includes('*'))) return false;
                const errors = document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output'
                    + '[data-mime-type="application/vnd.jupyter.stderr"]');
                const failed = Array.from(errors).some(e => {ERROR_RE}.test(e.textContent));
                return failed || /\\[\\d+\\]/.test(p[{last}]);
            }}""", timeout=timeout * 1000, polling=500)
        self.wait_kernel_idle()

    # -- what the page shows
    def dom_tracebacks(self) -> list[tuple[int, str]]:
        """(cell index, text) of every traceback shown in an output area."""
        return self.page.evaluate("""() => {
            const cells = Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell'));
            const found = [];
            cells.forEach((cell, i) => cell.querySelectorAll(
                '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').forEach(o => {
                    // an error output (a warning on stderr is not one)
                    if (%s.test(o.textContent)) found.push([i, o.textContent]);
                }));
            return found;
        }""" % ERROR_RE)

    def dom_pictures(self) -> list[int]:
        """Indices of the cells whose outputs show a picture (an image or a widget's img)."""
        return self.page.evaluate("""() => Array.from(document.querySelectorAll(
                '.jp-NotebookPanel .jp-Notebook .jp-Cell')).map((cell, i) =>
                cell.querySelector('.jp-OutputArea .jp-RenderedImage img, .jp-OutputArea .widget-image, '
                    + '.jp-OutputArea img') ? i : -1).filter(i => i >= 0)""")

    # -- saving
    def save(self, timeout: float = 60.0):
        """Ctrl+S, wait for the file on disk to change, and return it as read by nbformat."""
        before = self.file.stat().st_mtime_ns
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.file.stat().st_mtime_ns != before and not self.page.locator(
                    ".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-dirty").count():
                try:
                    return nbformat.read(self.file, as_version=4)
                except (json.JSONDecodeError, nbformat.reader.NotJSONError):
                    pass   # caught mid-write
            time.sleep(0.25)
        raise AssertionError(f"{self.path}: Ctrl+S did not save the notebook within {timeout:.0f} s")

    # -- nbgrader's Validate button
    def validate(self, timeout: float = 600.0) -> tuple[str, str]:
        """Press Validate; the result dialog's class (validation-success, ...) and text."""
        page = self.page
        page.locator(".jp-NotebookPanel-toolbar .validate-button").first.click()
        message = page.locator(".jp-Dialog #validation-message")
        try:
            message.wait_for(state="visible", timeout=timeout * 1000)
        except Exception as err:  # noqa: BLE001 - say what the page shows instead
            dialogs = page.locator(".jp-Dialog").all_inner_texts()
            raise AssertionError(f"{self.path}: no validation result within {timeout:.0f} s "
                                 f"(dialogs: {dialogs}): {err}\n"
                                 f"server log:\n{self.server.log_tail()}") from None
        page.wait_for_timeout(300)   # let the dialog finish its opening transition
        classes = message.get_attribute("class") or ""
        kind = next((c for c in classes.split() if c.startswith("validation-")), classes)
        return kind, message.inner_text()

    def close_dialog(self) -> None:
        with contextlib.suppress(Exception):
            self.page.locator(".jp-Dialog .jp-mod-accept").first.click(timeout=5000)

    # -- pictures of the page
    def screenshot(self, path: Path, full: bool = True) -> None:
        """Save a screenshot; ``full`` grows the window to the notebook's whole height first."""
        path.parent.mkdir(parents=True, exist_ok=True)
        page = self.page
        if not full:
            page.screenshot(path=str(path))
            return
        extra = page.evaluate(f"""() => Math.max(0, ...Array.from(document.querySelectorAll(
            {SCROLLERS!r})).map(n => n.scrollHeight - n.clientHeight))""")
        height = min(VIEWPORT["height"] + max(0, extra) + 40, MAX_SCREENSHOT_HEIGHT)
        try:
            page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
            page.wait_for_timeout(500)
            page.evaluate(f"""() => document.querySelectorAll({SCROLLERS!r}).forEach(
                n => {{ n.scrollTop = 0; }})""")
            page.wait_for_timeout(300)
            page.screenshot(path=str(path), full_page=True)
        finally:
            page.set_viewport_size(VIEWPORT)
