"""pytest fixture ``forge``: a started ForgejoDouble (spec checking on) holding

* site admin ``disinto-admin`` / ``admin-pass-123`` (must_change_password cleared),
* user ``johba`` / ``johba-pass-123``, owner of the empty public repository ``johba/disinto``.

Teardown asserts that no request or response broke the swagger spec and that the double
itself raised nothing. Use it with ``from tests.support.forgejo_double.fixture import forge  # noqa``
or ``pytest_plugins = ["tests.support.forgejo_double.fixture"]``.
"""

import pytest

from .server import ForgejoDouble

ADMIN_USER = "disinto-admin"
ADMIN_PASSWORD = "admin-pass-123"
OWNER_USER = "johba"
OWNER_PASSWORD = "johba-pass-123"
REPO = "johba/disinto"


@pytest.fixture
def forge():
    with ForgejoDouble(spec_check=True) as double:
        double.add_user(ADMIN_USER, password=ADMIN_PASSWORD, is_admin=True, email="admin@disinto.test")
        double.add_user(OWNER_USER, password=OWNER_PASSWORD, email="johba@disinto.test")
        double.add_repo(OWNER_USER, "disinto")
        yield double
        assert double.internal_errors == [], "the Forgejo double failed internally:\n" + "\n".join(
            double.internal_errors
        )
        assert double.spec_violations == [], "requests/responses broke the Forgejo 11 swagger:\n" + "\n".join(
            double.spec_violations
        )
