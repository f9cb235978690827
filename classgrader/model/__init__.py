"""The shared course model: what every stage of the life cycle reads.

* :mod:`~classgrader.model.course`: the course folder as nbgrader sees it (``nbgrader_config.py``).
* :mod:`~classgrader.model.notebooks`: nbgrader cell metadata, and notebooks built from solutions.
* :mod:`~classgrader.model.catalogue`: the mistake catalogues (``tests/mistakes/*.toml``).
* :mod:`~classgrader.model.integrity`: the structural check of a hand-in.
* :mod:`~classgrader.model.status`: the words producers and consumers share (statuses, error names).
"""
