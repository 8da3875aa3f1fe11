"""retire and copy-data against a fake `docker` on PATH that records its calls.

The fake answers `inspect` / `volume inspect` from a scenario file, and runs `docker run`'s
command for real, with each mounted volume a folder: the probe and copy scripts are the ones
migrate.py sends, executed by the local sh.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from disinto_infra import migrate
from tests.support.migrate_docker import COMPOSE, OURS, FakeDocker

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake(tmp_path, monkeypatch):
    fake = FakeDocker(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_DOCKER_DIR", str(tmp_path))
    return fake


# ---------------------------------------------------------------- retire


def test_retire_removes_a_compose_container(fake, capsys):
    fake.scenario(containers={"disinto-agents-dev-qwen": {"labels": COMPOSE}}, volumes=[])
    assert migrate.main(["retire", "--container", "disinto-agents-dev-qwen", "--grace", "120"]) == 0
    assert fake.state()["containers"] == {}
    assert fake.verbs() == ["inspect", "stop", "rm"]
    # The compose agent gets the stack's grace, not docker's 10 s (on the engine: tests/engine/test_retire.py).
    assert fake.calls()[1]["argv"] == ["stop", "-t", "120", "disinto-agents-dev-qwen"]
    assert fake.calls()[0]["argv"][:3] == ["inspect", "--type", "container"]
    assert "removed container disinto-agents-dev-qwen" in capsys.readouterr().out


def test_retire_never_removes_ours_even_with_a_compose_label(fake):
    fake.scenario(containers={"disinto-agents-dev-qwen": {"labels": {**OURS, **COMPOSE}}}, volumes=[])
    assert migrate.main(["retire", "--container", "disinto-agents-dev-qwen"]) == 0
    assert "disinto-agents-dev-qwen" in fake.state()["containers"]
    assert fake.verbs() == ["inspect"]


@pytest.mark.parametrize("labels", [{}, None, {"maintainer": "someone"}])
def test_retire_refuses_a_container_compose_did_not_make(fake, capsys, labels):
    fake.scenario(containers={"disinto-agents-dev-qwen": {"labels": labels}}, volumes=[])
    assert migrate.main(["retire", "--container", "disinto-agents-dev-qwen"]) == 1
    assert "disinto-agents-dev-qwen" in fake.state()["containers"]
    assert fake.verbs() == ["inspect"]
    assert "com.docker.compose.project" in capsys.readouterr().err


def test_retire_of_an_absent_container_is_fine(fake, capsys):
    assert migrate.main(["retire", "--container", "disinto-agents-dev-qwen"]) == 0
    assert fake.verbs() == ["inspect"]
    assert "nothing to retire" in capsys.readouterr().out


def test_an_unreachable_daemon_is_an_error_not_an_absent_container(fake, capsys):
    fake.scenario(containers={}, volumes=[], daemon_down=True)
    assert migrate.main(["retire", "--container", "disinto-agents-dev-qwen"]) == 1
    assert "Cannot connect" in capsys.readouterr().err


def test_docker_host_from_the_environment_reaches_the_cli(fake):
    fake.scenario(containers={"disinto-agents-x": {"labels": COMPOSE}}, volumes=[])
    env = {**os.environ, "DOCKER_HOST": "ssh://ops@factory"}
    done = subprocess.run(
        [sys.executable, "-m", "disinto_infra.migrate", "retire", "--container", "disinto-agents-x"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert {c["DOCKER_HOST"] for c in fake.calls()} == {"ssh://ops@factory"}


# ---------------------------------------------------------------- copy-data

OLD, NEW, IMAGE = "disinto_agents-dev-qwen-data", "agents-dev-qwen-data", "ghcr.io/disinto/agents:latest"


def copy() -> int:
    return migrate.main(["copy-data", "--from", OLD, "--to", NEW, "--image", IMAGE])


def seed_old(fake) -> Path:
    old = fake.volume(OLD)
    (old / "ci-fix-tracker.json").write_text('{"pr": 7}')
    (old / "logs").mkdir()
    (old / "logs" / "dev.log").write_text("line\n")
    (old / ".hidden").write_text("x")
    fake.scenario(containers={}, volumes=[OLD, NEW])
    fake.volume(NEW)
    return old


def test_copy_runs_once_into_a_fresh_volume(fake):
    seed_old(fake)
    assert copy() == 0
    new = fake.volume(NEW)
    assert (new / "ci-fix-tracker.json").read_text() == '{"pr": 7}'
    assert (new / "logs" / "dev.log").read_text() == "line\n"
    assert (new / ".hidden").exists() and (new / ".disinto-migrated").exists()
    assert not (new / ".disinto-migrating").exists()
    runs = [c["argv"] for c in fake.calls() if c["argv"][0] == "run"]
    assert len(runs) == 2  # probe, copy
    copy_run = runs[1]
    assert copy_run[:6] == ["run", "--rm", "--user", "0:0", "--entrypoint", "sh"]
    assert f"{OLD}:/from:ro" in copy_run and f"{NEW}:/to" in copy_run and IMAGE in copy_run
    (new / "ci-fix-tracker.json").write_text("agent wrote this since")
    assert copy() == 0  # second run: the marker stops it
    assert len([c for c in fake.calls() if c["argv"][0] == "run"]) == 3
    assert (new / "ci-fix-tracker.json").read_text() == "agent wrote this since"


def test_copy_is_skipped_when_the_marker_exists(fake, capsys):
    seed_old(fake)
    (fake.volume(NEW) / ".disinto-migrated").touch()
    assert copy() == 0
    assert [c["argv"][0] for c in fake.calls()].count("run") == 1
    assert not (fake.volume(NEW) / "ci-fix-tracker.json").exists()
    assert "already holds the copy" in capsys.readouterr().out


def test_copy_is_skipped_when_the_source_volume_is_absent(fake, capsys):
    fake.scenario(containers={}, volumes=[NEW])
    assert copy() == 0
    assert fake.verbs() == ["volume inspect"]
    assert "nothing to copy" in capsys.readouterr().out


def test_copy_never_overwrites_data_our_agent_already_wrote(fake, capsys):
    seed_old(fake)
    (fake.volume(NEW) / "ci-fix-tracker.json").write_text("ours")
    assert copy() == 0
    assert (fake.volume(NEW) / "ci-fix-tracker.json").read_text() == "ours"
    assert "not copying" in capsys.readouterr().out


def test_a_copy_that_died_midway_is_redone(fake):
    seed_old(fake)
    (fake.volume(NEW) / ".disinto-migrating").touch()
    (fake.volume(NEW) / "ci-fix-tracker.json").write_text("torn")
    assert copy() == 0
    assert (fake.volume(NEW) / "ci-fix-tracker.json").read_text() == '{"pr": 7}'
    assert (fake.volume(NEW) / ".disinto-migrated").exists()


def test_a_failing_docker_run_is_an_error(fake, capsys):
    seed_old(fake)
    fake.scenario(containers={}, volumes=[OLD, NEW], run_fails=True)
    assert copy() == 1
    err = capsys.readouterr().err
    assert "pull access denied" in err and NEW in err
    assert not (fake.volume(NEW) / ".disinto-migrated").exists()
