"""Grade: the sandboxed kernel, the course's autograde preprocessors, and the parallel runner."""
