"""Fixtures the check tests share: a world of doubles and a project folder (test_check_cli.py)."""

from tests.commands.check.test_check_cli import world  # noqa: F401 (a fixture, for the tests here)
