"""Runs inside the grading kernel: undo the known ways of changing how tests execute.

The sandbox kernel imports this module at start-up, before any student code runs
(``--IPKernelApp.exec_lines``), so it can keep the original objects that the hidden tests rely
on: the builtins, numpy's functions, the import machinery, and IPython's methods that run cells
and report errors. :class:`classgrader.grade.preprocessors.GuardedExecute` evaluates :func:`restore` as a
*user expression* (which IPython evaluates directly, without input transformers) before every
test cell. It puts those originals back, removes IPython input and AST transformers, drops any
loaded copy of ``classgrader`` (so the test imports its checks afresh from disk), and clears trace
functions.

A determined attacker controls the kernel process, so this is one layer of three: the random
marker that :class:`~classgrader.grade.preprocessors.GuardedExecute` checks after each test cell catches
a test that did not run, and the static scan (:mod:`classgrader.grade.scan`) flags the submission for a
person to read.
"""
from __future__ import annotations

import builtins
import importlib
import sys
import threading

_SHELL_METHODS = ("run_cell", "run_cell_async", "transform_cell", "run_ast_nodes", "run_code",
                  "showtraceback", "_showtraceback", "showsyntaxerror", "user_expressions",
                  "should_run_async", "ex", "ev")
_GUARDED_MODULES = ("numpy", "numpy.linalg", "numpy.random", "numpy.testing", "math", "operator")


def _snapshot() -> dict:
    saved = {"builtins": dict(vars(builtins)), "meta_path": list(sys.meta_path),
             "path_hooks": list(sys.path_hooks), "modules": {}}
    for name in _GUARDED_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        saved["modules"][name] = (module, dict(vars(module)))
    try:
        from IPython.core.interactiveshell import InteractiveShell

        saved["shell_class"] = {name: InteractiveShell.__dict__[name] for name in _SHELL_METHODS
                                if name in InteractiveShell.__dict__}
    except ImportError:
        saved["shell_class"] = {}
    return saved


_ORIGINALS = _snapshot()


def restore() -> bool:
    """Put back what the hidden tests rely on; True when done."""
    saved = _ORIGINALS
    for name, value in saved["builtins"].items():
        if vars(builtins).get(name) is not value:
            setattr(builtins, name, value)
    sys.meta_path[:] = saved["meta_path"]
    sys.path_hooks[:] = saved["path_hooks"]
    for name, (module, namespace) in saved["modules"].items():
        sys.modules[name] = module
        current = vars(module)
        for key, value in namespace.items():
            if current.get(key) is not value:
                setattr(module, key, value)
    for name in [m for m in sys.modules if m == "classgrader" or m.startswith("classgrader.")]:
        if name != __name__:
            del sys.modules[name]
    sys.settrace(None)
    sys.setprofile(None)
    threading.settrace(None)
    threading.setprofile(None)

    from IPython import get_ipython
    from IPython.core.inputtransformer2 import TransformerManager
    from IPython.core.interactiveshell import InteractiveShell

    for name, function in saved["shell_class"].items():
        if InteractiveShell.__dict__.get(name) is not function:
            setattr(InteractiveShell, name, function)
    shell = get_ipython()
    if shell is None:
        return False
    for name in _SHELL_METHODS:
        if name in vars(shell):
            delattr(shell, name)
    defaults = TransformerManager()
    shell.input_transformers_cleanup[:] = list(defaults.cleanup_transforms)
    shell.input_transformer_manager.cleanup_transforms = shell.input_transformers_cleanup
    shell.input_transformer_manager.line_transforms = list(defaults.line_transforms)
    shell.input_transformers_post[:] = []
    shell.ast_transformers[:] = []
    return True
