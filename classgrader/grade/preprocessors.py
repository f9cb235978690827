"""nbgrader preprocessors of the course, registered in ``nbgrader_config.py``.

They are ordinary nbgrader/nbconvert preprocessors, so the protections hold for plain
``nbgrader autograde`` run from the repository root as well as for ``make grade``:

* :class:`RejectMalformed` (sanitize step): a hand-in with a duplicated, deleted or retyped grade
  cell fails *that* submission with a clear reason, instead of aborting the whole run.
* :class:`GuardedExecute` (replaces nbgrader's ``Execute``): a kernel that dies (``os._exit``), a
  cell that cannot be interrupted, or a notebook over its time budget costs the cells that did not
  run, not the whole submission; before each test cell the known run-time tricks (IPython input
  and AST transformers, a patched ``run_cell`` or ``showtraceback``) are undone; after it, a random
  marker proves that the test cell's code really ran.
* :class:`HarmlessStderr`: a warning printed to stderr by correct code does not zero a test cell
  (nbgrader scores any stderr output as a failure); failures are exceptions, which stay.
* :class:`CapOutputBytes`: outputs are capped in bytes (nbgrader's LimitOutput counts lines only,
  so one 20 MB line survives it).
"""
from __future__ import annotations

import os
import secrets
import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer, Unicode

from classgrader.model.integrity import grade_cell_problems
from classgrader.model.notebooks import is_autograded_test
from classgrader.model.status import ErrorName

#: Python expression evaluated in the kernel (as a user expression, which IPython does not pass
#: through input transformers) to undo the known tricks before a test cell runs.
RESTORE_EXPRESSION = "__import__('classgrader.grade.guard', fromlist=['restore']).restore()"


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=str(ename), evalue=evalue, traceback=[f"{ename}: {evalue}"])


class RejectMalformed(NbGraderPreprocessor):
    """Fail one malformed submission with a clear reason (put it first in the sanitize step)."""

    def preprocess(self, nb, resources):
        notebook_id = resources["unique_key"]
        assignment_id = resources["nbgrader"]["assignment"]
        with Gradebook(resources["nbgrader"]["db_url"]) as gradebook:
            try:
                source = gradebook.find_notebook(notebook_id, assignment_id)
            except MissingEntry:
                return nb, resources
            expected = {cell.name: cell.cell_type for cell in source.source_cells}
        problems = grade_cell_problems(nb, expected)
        if problems:
            raise ValueError(f"malformed submission {notebook_id}.ipynb: " + "; ".join(problems))
        return nb, resources


class GuardedExecute(Execute):
    """nbgrader's Execute, hardened against submissions that fight the grader."""

    notebook_budget = Integer(
        600, help="Seconds one notebook may run in all, on top of the per-cell timeout."
    ).tag(config=True)

    marker_name = Unicode("_classgrader_cell_ran").tag(config=True)

    sandbox_kernel = Unicode(
        "calculus-for-ml-sandbox",
        help="Kernel spec that runs student code in the sandbox ('' to use the notebook's own kernel).",
    ).tag(config=True)

    # nbconvert's preprocess() re-runs NotebookClient.__init__, which resets every trait set on
    # the instance to its configured value; so the kernel and the per-cell timeout are chosen in
    # the hooks that run after that: create_kernel_manager() and _get_timeout().

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = time.monotonic() + self.notebook_budget
        self._stopped = ""
        self._kernel = self._choose_kernel()
        return super().preprocess(nb, resources, km)

    def _choose_kernel(self) -> str:
        if not self.sandbox_kernel:
            return ""
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        try:
            KernelSpecManager().get_kernel_spec(self.sandbox_kernel)
            return self.sandbox_kernel
        except NoSuchKernel:
            message = (f"the sandbox kernel {self.sandbox_kernel!r} is not installed (run "
                       "`python -m classgrader install-kernel`): student code runs UNSANDBOXED")
            if os.environ.get("CLASSGRADER_SANDBOX_STRICT") == "1":
                raise RuntimeError("refusing to grade: " + message) from None
            self.log.warning("WARNING: %s", message)
            return ""

    def create_kernel_manager(self):
        from classgrader.grade.kernels import IPCKernelManager

        self.kernel_manager_class = IPCKernelManager
        if self._kernel:
            self.kernel_name = self._kernel
        return super().create_kernel_manager()

    def _get_timeout(self, cell):
        remaining = max(1, int(self._deadline - time.monotonic()))
        return min(self.timeout or remaining, remaining)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._stopped:
            cell.outputs = [_error(ErrorName.NOT_RUN, f"this cell did not run: {self._stopped}")]
            return cell, resources
        if time.monotonic() >= self._deadline:
            self._stop(f"the notebook used up its time budget of {self.notebook_budget} s")
            cell.outputs = [_error(ErrorName.TIME_BUDGET, self._stopped)]
            return cell, resources
        test = is_autograded_test(cell)
        marker = secrets.token_hex(8)
        original = cell.source
        if test:
            self._user_expression(RESTORE_EXPRESSION)
            cell.source = f"{original}\n{self.marker_name} = {marker!r}"
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stop("the kernel stopped (os._exit, a crash or a resource limit) in an earlier cell")
            cell.outputs.append(_error(ErrorName.DEAD_KERNEL, "the kernel stopped while this cell ran "
                                       "(os._exit, a crash, or a memory or time limit)"))
            return cell, resources
        except CellTimeoutError:
            self._stop("an earlier cell could not be interrupted after its timeout")
            cell.outputs.append(_error(ErrorName.CELL_TIMEOUT, "this cell ran past its timeout and "
                                       "ignored the interrupt"))
            self._kill()
            return cell, resources
        finally:
            cell.source = original
        if test and not any(o.get("output_type") == "error" for o in cell.outputs):
            ran = self._user_expression(f"globals().pop({self.marker_name!r}, None)")
            if ran != repr(marker):
                cell.outputs.append(_error(
                    ErrorName.TEST_DID_NOT_RUN, "the test code of this cell did not run as written (something "
                    "changed how cells execute); it scores 0 and the submission is flagged"))
        return cell, resources

    def _stop(self, reason: str) -> None:
        self._stopped = reason

    def _kill(self) -> None:
        try:
            self.km.shutdown_kernel(now=True)  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001 - the kernel may already be gone
            pass

    def _user_expression(self, expression: str) -> str | None:
        """Evaluate one expression in the kernel without running a cell; its repr, or None."""
        try:
            msg_id = self.kc.execute("", silent=True, store_history=False,
                                     user_expressions={"value": expression})
            reply = self.wait_for_reply(msg_id)
        except Exception:  # noqa: BLE001 - a broken kernel shows up in the next cell
            return None
        value = (reply or {}).get("content", {}).get("user_expressions", {}).get("value", {})
        if value.get("status") != "ok":
            return None
        return value.get("data", {}).get("text/plain")


class HarmlessStderr(NbGraderPreprocessor):
    """In test cells, turn stderr text (warnings) into stdout, so it does not zero the cell."""

    def preprocess_cell(self, cell, resources, index):
        if is_autograded_test(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    output["name"] = "stdout"
                    output["text"] = "[stderr] " + output.get("text", "")
        return cell, resources


class CapOutputBytes(NbGraderPreprocessor):
    """Cap every output of every cell at ``max_bytes`` (text is cut, large images dropped)."""

    max_bytes = Integer(20_000, help="Largest output kept per cell, in bytes.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        budget = self.max_bytes
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                text = output.get("text", "")
                if len(text.encode()) > budget:
                    output["text"] = text.encode()[:max(budget, 0)].decode(errors="ignore") + \
                        f"\n[output cut: more than {self.max_bytes} bytes]\n"
                budget -= len(output["text"].encode())
            elif output.get("output_type") == "error":
                output["evalue"] = output.get("evalue", "")[:self.max_bytes]
                output["traceback"] = [line[:self.max_bytes] for line in output.get("traceback", [])][:100]
            elif output.get("output_type") in ("display_data", "execute_result"):
                data = output.get("data", {})
                size = sum(len(str(v)) for v in data.values())
                if size > 10 * self.max_bytes:
                    output["data"] = {"text/plain": f"[output dropped: {size} bytes]"}
                else:
                    for mime, value in list(data.items()):
                        if mime.startswith("text/") and len(str(value)) > self.max_bytes:
                            data[mime] = str(value)[:self.max_bytes] + "\n[output cut]"
            kept.append(output)
        cell.outputs = kept
        return cell, resources
