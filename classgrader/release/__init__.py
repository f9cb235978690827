"""Release: turning ``source/`` into what students receive (``release/``, the student kit)."""
