"""`check`: read-only probes of what the fleet depends on (see command.py)."""
from .command import register

__all__ = ["register"]
