"""Report: what an instructor reads and uploads after grading (grades.csv, Canvas CSV, class report)."""
