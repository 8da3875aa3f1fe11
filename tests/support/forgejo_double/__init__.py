"""A Forgejo 11 test double served over real HTTP on 127.0.0.1.

    from tests.support.forgejo_double import ForgejoDouble, Fault

    with ForgejoDouble(spec_check=True) as forge:
        forge.add_user("disinto-admin", password="admin-pass-123", is_admin=True)
        forge.inject(Fault(method="POST", path_regex=r"^/api/v1/users/[^/]+/tokens$",
                           kind="status", status=503, times=2))
        ...  # drive forge.url with any HTTP client
        assert forge.spec_violations == []

Behaviour follows Forgejo 11's source, as `forgejo/BEHAVIOUR.md` of the shared folder beside the
checkout sums it up: auth methods and
account-state checks, token scopes, status codes and error bodies of the users, tokens,
repos, collaborators, contents, branches and branch-protection endpoints. A pytest fixture
``forge`` lives in ``tests.support.forgejo_double.fixture``.
"""

from .faults import Fault
from .server import ForgejoDouble, RequestRecord
from .state import ScopeError, go_parse_int, normalize_scopes

__all__ = ["Fault", "ForgejoDouble", "RequestRecord", "ScopeError", "go_parse_int", "normalize_scopes"]
