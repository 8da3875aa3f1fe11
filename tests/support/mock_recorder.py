"""A bare mock recorder for tests of single resource builders (not the whole program).

`mocked` yields (recorder, seen): the registered resources by name, and the transformation
arguments by name, which carry the options mocks otherwise ignore.
"""

from __future__ import annotations

import pulumi
import pulumi.runtime.settings
import pytest


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registered: dict[str, pulumi.runtime.MockResourceArgs] = {}

    def new_resource(self, args):
        self.registered[args.name] = args
        return [f"{args.name}-id", args.inputs]

    def call(self, args):
        return {}


@pytest.fixture
def mocked():
    """Fresh mocks and a fresh root stack, with a transformation that sees options mocks ignore."""
    pulumi.runtime.settings.ROOT.set(None)
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, preview=False)
    seen: dict[str, pulumi.ResourceTransformationArgs] = {}

    def remember(args):
        seen[args.name] = args
        return

    pulumi.runtime.register_stack_transformation(remember)
    yield recorder, seen
    pulumi.runtime.settings.ROOT.set(None)
