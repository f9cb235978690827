"""mlviz: the pictures of the course "Calculus for ML".

Modules (imported on first use, so ``import mlviz`` stays cheap):

- ``mlviz.derivatives``       functions, tangents, Taylor approximants, finite-difference error
- ``mlviz.gradients``         loss surface with a slice, gradient vector field
- ``mlviz.gradient_descent``  descent paths, learning-rate panels, loss curves, GIF, slider
- ``mlviz.chain_rule``        computational graph (values forward, gradients back), network training
- ``mlviz.regression``        fitted lines during training, MSE loss surface
- ``mlviz.depth``             gradient norms through the layers of a deep network
- ``mlviz.classification``    two half-moons, the decision boundary of a classifier
- ``mlviz.gallery``           ``python -m mlviz.gallery OUTDIR`` writes the README pictures

Every plotting function returns the matplotlib Figure and Axes and never calls
``plt.show()``. ``mlviz._style.apply_style()`` applies the shared look globally.
"""

import importlib

__all__ = ["derivatives", "gradients", "gradient_descent", "chain_rule",
           "regression", "depth", "classification", "gallery"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
