"""`python -m disinto_infra`: see cli.py."""
import sys

from .cli import main

sys.exit(main())
