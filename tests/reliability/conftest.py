"""The reliability suite (issue 5): faults, bad input, secrets, concurrency.

Every module here sets `pytestmark = pytest.mark.reliability`, so `pytest -m reliability` runs the
suite alone; it also runs in the normal CI run. The `forge` / `engine` fixtures are those of
tests/forgejo: a fresh Forgejo double with spec checking, and a provider host configured against
it with `disinto:forgeTimeout` "3": an exchange's whole deadline that a loaded machine still meets
against the double, and an injected timeout (held until the deadline ends it) costs 3 s, not thirty.
"""

from tests.forgejo.conftest import engine, forge  # noqa: F401 (fixtures)
