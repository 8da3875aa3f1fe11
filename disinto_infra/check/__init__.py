"""`check`: read-only probes of what the fleet depends on (the command is command.py).

Nothing is imported here: the program imports `servers` for its `pulumi up` warning, and the
command imports the CLI, which imports the program.
"""
