"""The operator commands: the CLI, hire, rotate (with the TOML editor) and check."""
