"""Runs inside the grading kernel: undo the known ways of changing how cells execute.

:class:`classgrader.preprocessors.GuardedExecute` evaluates :func:`restore` as a *user expression*
(which IPython evaluates directly, without input transformers) before every test cell. It puts
back IPython's default input and AST transformers and removes instance-level replacements of the
shell methods that run cells and report errors. A determined attacker controls the kernel
process, so this is one layer: the marker check after each test cell catches what it misses, and
the static scan flags the submission for a person to read.
"""
from __future__ import annotations

_SHELL_METHODS = ("run_cell", "run_cell_async", "transform_cell", "run_ast_nodes", "run_code",
                  "showtraceback", "_showtraceback", "showsyntaxerror", "user_expressions")


def restore() -> bool:
    """Undo transformer and method patches on the running IPython shell; True when done."""
    from IPython import get_ipython
    from IPython.core.inputtransformer2 import TransformerManager

    shell = get_ipython()
    if shell is None:
        return False
    defaults = TransformerManager()
    shell.input_transformers_cleanup[:] = list(defaults.cleanup_transforms)
    shell.input_transformer_manager.cleanup_transforms = shell.input_transformers_cleanup
    shell.input_transformer_manager.line_transforms = list(defaults.line_transforms)
    shell.input_transformers_post[:] = []
    shell.ast_transformers[:] = []
    for name in _SHELL_METHODS:
        if name in vars(shell):
            delattr(shell, name)
    return True
