"""2.4 A locally built agents image works: named by its id, the program pulls nothing and the engine runs
it; named by `<repo>@<digest>` it cannot be found (runtimes/image_pin.py)."""

from __future__ import annotations

import pytest

from disinto_infra.program.plan import reveal
from tests.support.docker_engine import EngineError, cli
from tests.support.engine_lab import Lab


def test_a_local_image_by_id_runs(lab: Lab):
    image_id = cli("image", "inspect", "--format", "{{.Id}}", lab.image).stdout.strip()
    registered = reveal(lab.registered("local", agentImage=image_id).named("agent-image").inputs)
    assert registered["name"] == image_id
    # The provider's image lookup (findImage: ImageInspect by that name, resource_docker_image_funcs.go).
    assert lab.engine.call("GET", f"/images/{registered['name']}/json")["Id"] == image_id
    box = lab.agent("local", own_image=True, agentImage=image_id)
    assert box.inputs["image"] == image_id
    assert lab.run_started(box).returncode == 0


def test_a_local_image_has_no_repo_digest_to_pull_by(lab: Lab):
    found = lab.engine.call("GET", f"/images/{lab.image}/json")
    assert found["RepoDigests"] == []
    by_digest = f"{lab.image.split(':')[0]}@{found['Id']}"
    with pytest.raises(EngineError, match="404"):
        lab.engine.call("GET", f"/images/{by_digest}/json")
