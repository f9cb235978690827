"""The demo: a class built from the course itself, graded, and checked against what each must get.

* :mod:`~classgrader.demo.builder`: the class (perfect, blank, source, one student per catalogued
  mistake, broken hand-ins), used by ``make demo``, ``make bench`` and the suite.
* :mod:`~classgrader.demo.expectations`: reading what each submission got and comparing.
* :mod:`~classgrader.demo.demo`: the whole life cycle on that class.
"""
