"""2.8 Bounded logs: json-file with the stack's max-size and max-file, rotated by the engine."""

from __future__ import annotations

import os

from tests.support.engine_lab import Lab, wait_for


def test_the_log_is_json_file_with_the_default_bounds(lab: Lab):
    box = lab.agent("logdefault")
    config = lab.engine.inspect(box.cid)["HostConfig"]["LogConfig"]
    assert config == {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}


def test_the_engine_rotates_at_the_set_size(lab: Lab):
    box = lab.agent("logsmall", logMaxSize="1k", logMaxFiles="2")
    log_path = lab.engine.inspect(box.cid)["LogPath"]
    # The agent logs a few lines every 5 s poll: the engine rotates once 1 KiB is written.
    wait_for("a rotated log", lambda: os.path.exists(f"{log_path}.1"), timeout=300, every=1)
    assert not os.path.exists(f"{log_path}.2")  # max-file 2: the current one and one old
