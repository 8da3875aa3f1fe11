"""2.2 A failing start fails `up` fast, with the container's last log lines and its restart count; the
next `up` checks the same container again (runtimes/started.py)."""

from __future__ import annotations

from tests.support.engine_lab import Lab


def test_a_crash_looping_start_fails_fast_with_its_logs(lab: Lab):
    # Forgejo refuses the token: the entrypoint cannot prove its login, and exits under set -e.
    box = lab.agent("crash", refused=True, startTimeoutSeconds="600")
    started = lab.run_started(box)
    assert started.returncode == 1
    # The first restart decided it, not the 600 s start timeout (whose message would say so).
    assert "the agent exited before its loop ran" in started.output
    assert "restarted 1 times" in started.output or "restarted 2 times" in started.output
    assert "last 20 log lines" in started.output
    assert "Could not determine bot username" in started.output  # the entrypoint's own line (lib/git-creds.sh)
    assert box.token not in started.output


def test_the_next_up_checks_the_same_container_again(lab: Lab):
    box = lab.agent("again", refused=True)
    assert lab.run_started(box).returncode == 1
    lab.accept("again")  # the cause is fixed; the restart policy keeps starting the container
    again = lab.run_started(box)
    assert again.returncode == 0, again.output
    assert lab.engine.inspect(box.cid)["Id"] == box.cid
