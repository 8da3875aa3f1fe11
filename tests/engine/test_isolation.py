"""2.6 Isolation and rights: the agent user writes both named volumes; each container holds only its own
credentials; neither the factory's `.env` nor the Docker socket is mounted."""

from __future__ import annotations

from tests.support.engine_lab import Lab


def test_the_agent_user_writes_both_volumes(lab: Lab):
    box = lab.agent("rights")
    assert lab.run_started(box).returncode == 0
    for folder in ("data", "repos"):
        wrote = lab.exec(box, "touch", f"/home/agent/{folder}/written-by-agent", user="1000")
        assert wrote.returncode == 0, (folder, wrote.stderr)


def test_each_container_holds_only_its_own_credentials(lab: Lab):
    one, two = lab.agent("one"), lab.agent("two")
    for box, other in ((one, two), (two, one)):
        env = lab.engine.inspect(box.cid)["Config"]["Env"]
        assert f"FORGE_TOKEN={box.token}" in env and f"FORGE_PASS={box.token}" in env
        assert not [entry for entry in env if other.token in entry]
        assert not [entry for entry in env if entry.startswith(("FORGE_TOKEN_", "FORGE_PASS_"))]


def test_no_env_file_and_no_docker_socket_inside(lab: Lab):
    box = lab.agent("closed")
    mounts = lab.engine.inspect(box.cid)["Mounts"]
    assert not [m for m in mounts if m.get("Source", "").endswith(("/.env", "docker.sock"))]
    assert lab.exec(box, "test", "-e", "/var/run/docker.sock").returncode == 1
    assert lab.exec(box, "test", "-e", "/home/agent/disinto/.env").returncode == 1
