"""Fixtures the runtime tests share: recording mocks; a Forgejo double and a provider host."""

from tests.forgejo.conftest import engine, forge  # noqa: F401 (fixtures, for the tests here)
from tests.support.mock_recorder import mocked  # noqa: F401 (a fixture, for the tests here)
