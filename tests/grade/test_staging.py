"""What a killed writer leaves behind is swept before and after a grading run, and nothing else."""
from __future__ import annotations

from classgrader.grade import staging


def test_a_killed_atomic_write_leaves_a_temporary_that_the_sweep_removes(tmp_path):
    record = tmp_path / staging.WORK / "completed" / "ada" / "01-derivatives.json"
    staging.atomic_write(record, "{}")
    assert record.read_text() == "{}" and staging.leftover_temporaries(tmp_path) == []
    # what SIGKILL between the write and the rename leaves:
    orphan = record.with_name(f".{record.name}.0123abcd.tmp")
    orphan.write_text("{\"half")
    status = tmp_path / ".grading-status.json.4567ef.tmp"
    status.write_text("[")
    student_file = tmp_path / "submitted" / "ada" / "01-derivatives" / ".notes.tmp"
    student_file.parent.mkdir(parents=True)
    student_file.write_text("a hand-in's own file")
    assert set(staging.leftover_temporaries(tmp_path)) >= {orphan, status}

    staging.sweep(tmp_path)

    assert not orphan.exists() and not status.exists()
    assert record.read_text() == "{}", "a finished record stays"
    assert student_file.exists(), "files of a hand-in are never swept"
