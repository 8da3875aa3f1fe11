"""`run.py` is a tool (mutations against a scratch copy), not tests: keep it out of every pytest run."""

collect_ignore = ["run.py"]
