"""`.ci/run` runs exactly the README's "set up and test" command."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set up and test (fresh machine)", 1)[1]
    command = re.search(r"```sh\n(.+?)\n```", section, flags=re.S)[1]
    assert command.splitlines()[-1] in (ROOT / ".ci" / "run").read_text().splitlines()
