"""The reliability suite (issue 5): faults, bad input, secrets, concurrency.

Every module here sets `pytestmark = pytest.mark.reliability`, so `pytest -m reliability` runs the
suite alone; it also runs in the normal CI run. The `forge` / `engine` fixtures are those of
tests/forgejo: a fresh Forgejo double with spec checking, and a provider host configured against
it with `disinto:forgeTimeout` "1", so an injected timeout costs a second, not thirty.
"""

from tests.forgejo.conftest import engine, forge  # noqa: F401 (fixtures)
