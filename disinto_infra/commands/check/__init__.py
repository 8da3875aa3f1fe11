"""`check`: read-only probes of what the fleet depends on (the command is command.py)."""
