"""Script-mode support: ``python tools/ml-visualizations/<module>.py ...``.

A module run by path is not inside a package, so its absolute imports
(``from mlviz._style import ...``) would fail unless mlviz is installed. Importing
this file (possible because the script's folder is ``sys.path[0]``) registers this
very folder as the package ``mlviz`` and selects the headless Agg backend.
"""

import importlib.util
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")  # scripts only write files; never open a window

if "mlviz" not in sys.modules:
    _folder = pathlib.Path(__file__).resolve().parent
    _spec = importlib.util.spec_from_file_location(
        "mlviz", _folder / "__init__.py", submodule_search_locations=[str(_folder)]
    )
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["mlviz"] = _module
    _spec.loader.exec_module(_module)
