"""`python -m disinto_infra`: see commands/cli.py."""

import sys

from disinto_infra.commands.cli import main

sys.exit(main())
