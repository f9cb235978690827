"""The judge: hidden tests decided outside the student's process.

The student's code runs in a sandboxed kernel; the hidden tests run here, in the trusted grading
process, from the gradebook's copy of each test cell. The kernel only ever receives what it needs to
call the student's code (the inputs, as data, and which function to call) and returns plain data.
Expected values, the checks and the hidden test code never enter it, so nothing the student's code
does there, at any moment, can change a verdict or read a hidden test.

* :mod:`.wire`: the messages (framed JSON, plain data, no pickle), shared by both sides;
* :mod:`.agent`: the kernel side, a thin servant that calls what it is asked to call;
* :mod:`.session`: the judge side of one conversation (calls, callbacks, substitutes, deadline);
* :mod:`.remote`: stand-ins for the student's objects (functions, classes, ``Value`` graphs);
* :mod:`.verdict`: running a test cell and turning the outcome into what nbgrader scores.
"""
