"""`<name>-retire`, `<name>-copy-data` under Pulumi mocks, and the compose conflict check."""

from __future__ import annotations

import os
import shlex
import subprocess

import pulumi
import pulumi_docker as docker

from disinto_infra.runtimes import migration as mr
from tests.support.migrate_docker import COMPOSE, FakeDocker


def run_program(build):
    @pulumi.runtime.test
    def program():
        return build().urn

    program()


def test_retire_command(mocked):
    recorder, _ = mocked
    run_program(lambda: mr.retire_compose_container("dev-qwen", "disinto-agents-dev-qwen", "ssh://ops@box", 120))
    inputs = recorder.registered["dev-qwen-retire"].inputs
    assert shlex.split(inputs["create"]) == [
        "python3",
        "-m",
        "disinto_infra.migrate",
        "retire",
        "--container",
        "disinto-agents-dev-qwen",
        "--grace",
        "120",
    ]
    # A retirement runs once: a new grace in the command changes nothing that already happened.
    assert "delete" not in inputs and inputs["update"] == mr.NO_OP_UPDATE
    assert inputs["environment"]["DOCKER_HOST"] == "ssh://ops@box"
    assert inputs["triggers"] == ["disinto-agents-dev-qwen"]


def test_without_docker_host_the_cli_keeps_its_own_default(mocked):
    recorder, _ = mocked
    run_program(lambda: mr.retire_compose_container("a", "disinto-agents-a", None, 120))
    assert "DOCKER_HOST" not in recorder.registered["a-retire"].inputs["environment"]


def copy_program(**options):
    def build():
        volume = docker.Volume("dev-qwen-data", name="agents-dev-qwen-data")
        retire = mr.retire_compose_container("dev-qwen", "disinto-agents-dev-qwen", None, 120)
        opts = pulumi.ResourceOptions(depends_on=[retire])
        return mr.copy_legacy_data(
            "dev-qwen",
            options.get("project", "disinto"),
            "dev-qwen",
            volume,
            pulumi.Output.from_input("img@sha256:abc"),
            "tcp://docker:2375",
            opts,
        )

    run_program(build)


def test_copy_command_names_the_compose_volume_ours_and_the_image(mocked):
    recorder, _ = mocked
    copy_program()
    inputs = recorder.registered["dev-qwen-copy-data"].inputs
    assert shlex.split(inputs["create"]) == [
        "python3",
        "-m",
        "disinto_infra.migrate",
        "copy-data",
        "--from",
        "disinto_agents-dev-qwen-data",
        "--to",
        "agents-dev-qwen-data",
        "--image",
        "img@sha256:abc",
    ]
    assert inputs["environment"]["DOCKER_HOST"] == "tcp://docker:2375"
    assert inputs["triggers"] == ["disinto_agents-dev-qwen-data", "agents-dev-qwen-data"]
    assert "delete" not in inputs


def test_copy_uses_the_configured_compose_project(mocked):
    recorder, _ = mocked
    copy_program(project="factory2")
    assert "--from factory2_agents-dev-qwen-data" in recorder.registered["dev-qwen-copy-data"].inputs["create"]


def test_copy_depends_on_the_volume_and_keeps_the_callers_dependencies(mocked):
    _, seen = mocked
    copy_program()
    names = [r._name for r in seen["dev-qwen-copy-data"].opts.depends_on]
    assert sorted(names) == ["dev-qwen-data", "dev-qwen-retire"]


def test_registered_retire_command_runs_against_the_fake_docker(mocked, tmp_path, monkeypatch):
    recorder, _ = mocked
    fake = FakeDocker(tmp_path)
    fake.scenario(containers={"disinto-agents-dev-qwen": {"labels": COMPOSE}}, volumes=[])
    run_program(lambda: mr.retire_compose_container("dev-qwen", "disinto-agents-dev-qwen", "ssh://ops@box", 120))
    inputs = recorder.registered["dev-qwen-retire"].inputs
    env = {
        **inputs["environment"],
        "FAKE_DOCKER_DIR": str(tmp_path),
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    done = subprocess.run(["/bin/sh", "-c", inputs["create"]], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert fake.state()["containers"] == {}
    assert {c["DOCKER_HOST"] for c in fake.calls()} == {"ssh://ops@box"}


def test_copy_has_an_update_that_does_nothing(mocked, tmp_path):
    """pulumi-command 1.2.1 runs `update` on an in-place change and, without one, `create` again
    (Command.Update, provider/pkg/provider/local/commandController.go @ 7f3eb6f): a changed
    environment must never copy twice."""
    recorder, _ = mocked
    copy_program()
    inputs = recorder.registered["dev-qwen-copy-data"].inputs
    assert inputs["update"] == mr.NO_OP_UPDATE
    # Run as the provider runs it (`/bin/sh -c`), with a fake docker first on PATH: no docker call.
    fake = FakeDocker(tmp_path)
    fake.scenario(containers={}, volumes=["disinto_agents-dev-qwen-data", "agents-dev-qwen-data"])
    env = {
        **inputs["environment"],
        "FAKE_DOCKER_DIR": str(tmp_path),
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    done = subprocess.run(["/bin/sh", "-c", inputs["update"]], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert fake.calls() == []
    # The triggers still replace it (they are replaceOnChanges), so a new volume copies once more.
    assert inputs["triggers"] == ["disinto_agents-dev-qwen-data", "agents-dev-qwen-data"]
