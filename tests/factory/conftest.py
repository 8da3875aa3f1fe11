"""Fixtures the factory tests share: recording mocks."""

from tests.support.mock_recorder import mocked  # noqa: F401 (a fixture, for the tests here)
