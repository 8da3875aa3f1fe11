"""The engine tests' fixtures: a real Docker daemon, the factory's agents image, and a closed lab per test.

Where no daemon answers or the image cannot be built, the tests skip and say why; with
DISINTO_ENGINE_REQUIRED=1 (as `.ci/run` sets it) that skip is an error instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.docker_engine import unavailable
from tests.support.engine_lab import Lab, Unavailable, agents_image

REQUIRED = os.environ.get("DISINTO_ENGINE_REQUIRED") == "1"


def _missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"DISINTO_ENGINE_REQUIRED=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/engine/" in str(item.fspath):
            item.add_marker(pytest.mark.engine)


@pytest.fixture(scope="session")
def image() -> str:
    reason = unavailable()
    if reason:
        _missing(reason)
    try:
        return agents_image()
    except Unavailable as missing:
        _missing(str(missing))
        raise


@pytest.fixture
def lab(image: str, tmp_path) -> Iterator[Lab]:
    world = Lab(image, tmp_path / "factory").open()
    try:
        world.start_forge()
        yield world
    finally:
        world.close()
