"""Stage 9, write: the report and `--coords-out`, atomically and together, never onto a file the run read."""
