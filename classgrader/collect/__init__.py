"""Bringing hand-ins in: the roster (``roster.py``) and student repositories collected with git
into ``submitted/`` (``classroom.py``), through the git helpers of ``git.py``."""
