"""The small core every domain stands on: settings, database, clock, errors, encryption,
the after-commit job buffer, and the locks and quota shared between processes."""
