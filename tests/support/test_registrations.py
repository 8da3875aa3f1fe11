"""tests/support/registrations.py: the program's registrations turned into what the engine harness runs."""

import base64

import dill
import pulumi
import pulumi_docker as docker
import pytest
from pulumi.dynamic import Resource

from disinto_infra.forgejo.collaborator import ForgejoCollaboratorProvider
from disinto_infra.forgejo.token import ForgejoTokenProvider
from disinto_infra.forgejo.user import ForgejoUserProvider
from disinto_infra.program.plan import run_with_mocks
from tests.support.engine import Ref, Secret
from tests.support.identity import identity, program
from tests.support.registrations import WiringError, dynamic_resources, with_stand_ins
from tests.support.toy_provider import ToyProvider


def provider_class(blob: str) -> type:
    return type(dill.loads(base64.b64decode(blob)))


def test_identity_is_the_programs_wiring_with_its_options_and_providers():
    user, token, grant = identity("dev-qwen", rotation=2, scopes=["write:repository"])
    assert [r.name for r in program("dev-qwen")] == [
        "dev-qwen-user",
        "dev-qwen-collaborator",
        "dev-qwen-profile",
        "dev-qwen-token",
    ]
    assert (user.retain_on_delete, user.delete_before_replace) == (False, True)  # its delete retires the account
    # The token sets no order: its provider's diff decides, as in the engine.
    assert (token.retain_on_delete, token.delete_before_replace) == (False, None)
    assert (grant.retain_on_delete, grant.delete_before_replace) == (False, True)
    assert token.additional_secret_outputs == ["token", "password"]
    assert token.inputs == {
        "username": Ref("dev-qwen-user", "username"),
        "password": Secret(Ref("dev-qwen-user", "password")),
        "user_id": Ref("dev-qwen-user", "user_id"),
        "scopes": ["write:repository"],
        "rotation": 2.0,
    }
    assert grant.inputs["user_id"] == Ref("dev-qwen-user", "user_id") and grant.inputs["repo"] == "johba/disinto"
    assert user.parent.endswith("disinto:index:Agent::dev-qwen")
    classes = [provider_class(r.provider_blob) for r in (user, token, grant)]
    assert classes == [ForgejoUserProvider, ForgejoTokenProvider, ForgejoCollaboratorProvider]


def test_each_call_is_a_fresh_copy():
    first = identity("dev-qwen")
    first[0].inputs["email"] = "changed@x"
    first[0].replace = True
    again = identity("dev-qwen")
    assert again[0].inputs["email"] == "dev-qwen@disinto.local" and again[0].replace is False
    assert [r.replace for r in identity("dev-qwen", replace=["token"])] == [False, True, False]


class _Toy(Resource, module="toy", name="Toy"):
    def __init__(self, name, props, opts=None):
        super().__init__(ToyProvider(), name, {**props, "seq": None}, opts)


def test_an_input_from_a_resource_the_harness_does_not_drive_is_an_error():
    def prog():
        volume = docker.Volume("v", name="data")
        _Toy("t", {"label": volume.name, "log": "/dev/null"})

    with pytest.raises(WiringError, match=r"t\.label: comes from"):
        dynamic_resources(run_with_mocks(prog))


def test_an_output_that_cannot_be_told_apart_is_an_error():
    def prog():
        a = _Toy("a", {"label": "same", "other": "same", "log": "/dev/null"})
        _Toy("b", {"copy": a.label.apply(lambda v: v), "log": "/dev/null"})

    with pytest.raises(WiringError, match=r"b\.copy: cannot tell which output of a"):
        dynamic_resources(run_with_mocks(prog))


def test_outputs_are_fed_by_reference_in_dependency_order():
    def prog():  # registered (and sorted by URN) with the dependent first
        source = _Toy("zz", {"label": "x", "log": "/dev/null"})
        _Toy("aa", {"up": source.label, "log": "/dev/null"}, pulumi.ResourceOptions(depends_on=[source]))

    source, dependent = dynamic_resources(run_with_mocks(prog))
    assert (source.name, dependent.name) == ("zz", "aa") and dependent.depends_on == ["zz"]
    assert dependent.inputs["up"] == Ref("zz", "label")


def test_every_option_the_engine_acts_on_is_carried_over():
    def prog():
        parent = pulumi.ComponentResource("test:index:Box", "box")
        first = _Toy("first", {"label": "x", "log": "/dev/null"}, pulumi.ResourceOptions(parent=parent))
        _Toy(
            "second",
            {"label": "y", "log": "/dev/null"},
            pulumi.ResourceOptions(
                parent=parent,
                depends_on=[first],
                retain_on_delete=True,
                delete_before_replace=False,
                additional_secret_outputs=["seq"],
                replace_on_changes=["label"],
                ignore_changes=["log"],
            ),
        )

    first, second = dynamic_resources(run_with_mocks(prog))
    assert first.delete_before_replace is None and first.retain_on_delete is False
    assert (second.depends_on, second.retain_on_delete, second.delete_before_replace) == (["first"], True, False)
    assert (second.additional_secret_outputs, second.replace_on_changes, second.ignore_changes) == (
        ["seq"],
        ["label"],
        ["log"],
    )
    assert second.parent.endswith("test:index:Box::box") and second.type == "pulumi-python:dynamic/toy:Toy"


def test_stand_ins_keep_every_other_resource_in_its_registered_order():
    def prog():
        volume = docker.Volume("v", name="data")
        toy = _Toy("t", {"label": "x", "log": "/dev/null"})
        docker.Volume("w", name="other", opts=pulumi.ResourceOptions(depends_on=[toy, volume]))

    by_name = {r.name: r for r in with_stand_ins(run_with_mocks(prog), "/tmp/log")}
    assert set(by_name) == {"v", "t", "w"}
    assert sorted(by_name["w"].depends_on) == ["t", "v"] and by_name["w"].type == "docker:index/volume:Volume"
    assert by_name["w"].inputs == {"label": "w", "log": "/tmp/log"} and isinstance(
        by_name["w"].provider_obj, ToyProvider
    )
    assert by_name["t"].provider_blob is not None  # the dynamic one as registered
