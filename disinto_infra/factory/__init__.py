"""The factory's own files that agents depend on: formulas, the compose file, the `.env` export."""
