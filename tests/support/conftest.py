"""Fixtures the support tests share: the Forgejo double with its admin."""

from tests.support.forgejo_double.fixture import forge  # noqa: F401 (a fixture, for the tests here)
