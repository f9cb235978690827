"""Run the visible checks of the notebooks, as the Validate button in JupyterLab does.

    python check_notebooks.py                      every notebook in this folder
    python check_notebooks.py 01-*/*.ipynb         only these

Each notebook is run from top to bottom by nbgrader's validator. The exit status is 0 when every
notebook passes, 1 otherwise; on GitHub Actions the results also go to the run's summary.
"""
from __future__ import annotations

import glob
import os
import sys

from nbgrader.validator import Validator


def check(path: str) -> tuple[bool, str]:
    """(passed, what to say) for one notebook."""
    try:
        results = Validator().validate(path)
    except Exception as err:  # noqa: BLE001 - a notebook that cannot even be read fails alone
        return False, f"could not be checked: {type(err).__name__}: {err}"
    if results.get("type_changed"):
        return False, f"{len(results['type_changed'])} cell(s) changed type; undo that (Edit > Undo)"
    if results.get("changed"):
        return False, f"{len(results['changed'])} read-only cell(s) were edited; restore them"
    failed = results.get("failed", [])
    if failed:
        return False, f"{len(failed)} check(s) or answer(s) not passing yet"
    return True, "every visible check passes"


def main(argv: list[str]) -> int:
    paths = []
    for pattern in argv or ["[0-9]*/*.ipynb"]:
        found = sorted(glob.glob(pattern))
        if not found:
            print(f"no notebook matches {pattern!r}", file=sys.stderr)
            return 2
        paths.extend(found)
    rows = []
    for path in paths:
        passed, message = check(path)
        rows.append((path, passed, message))
        print(f"{'PASS' if passed else 'FAIL'}  {path}: {message}", flush=True)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write("## Visible checks\n\n| notebook | result |\n|---|---|\n")
            for path, passed, message in rows:
                handle.write(f"| `{path}` | {'pass' if passed else 'not yet'}: {message} |\n")
    return 0 if all(passed for _, passed, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
