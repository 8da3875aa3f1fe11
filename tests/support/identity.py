"""An agent's Forgejo identity declared for the engine harness, as the Agent component declares it.

The options come from the resource classes themselves, so the harness runs each resource with the
options a real program would give it.
"""

from __future__ import annotations

from collections.abc import Sequence

from disinto_infra.forgejo import (
    ForgejoCollaborator,
    ForgejoCollaboratorProvider,
    ForgejoToken,
    ForgejoTokenProvider,
    ForgejoUser,
    ForgejoUserProvider,
)
from tests.support.engine import Ref, Res

REPO = "johba/disinto"


def _res(name: str, cls: type, provider: object, inputs: dict, **extra: object) -> Res:
    return Res(
        name,
        provider,
        inputs,
        additional_secret_outputs=list(cls.SECRET_OUTPUTS),
        delete_before_replace=cls.DELETE_BEFORE_REPLACE,
        type=f"pulumi-python:{cls._resource_type_name}",
        **extra,
    )


def identity(
    agent: str,
    *,
    username: str | None = None,
    rotation: int = 0,
    password_rotation: int = 0,
    scopes: Sequence[str] = ("all",),
    repo: str = REPO,
    email: str | None = None,
    replace: Sequence[str] = (),
) -> list[Res]:
    """`<agent>-user`, `<agent>-token`, `<agent>-collaborator`, wired as in the Agent component."""
    user = username or agent
    u = f"{agent}-user"
    return [
        _res(
            u,
            ForgejoUser,
            ForgejoUserProvider(),
            {
                "username": user,
                "email": email or f"{user}@disinto.local",
                "full_name": f"disinto agent {agent}",
                "password_rotation": password_rotation,
            },
            replace="user" in replace,
        ),
        _res(
            f"{agent}-token",
            ForgejoToken,
            ForgejoTokenProvider(),
            {
                "username": Ref(u, "username"),
                "password": Ref(u, "password"),
                "scopes": list(scopes),
                "rotation": rotation,
                "user_id": Ref(u, "user_id"),
            },
            replace="token" in replace,
        ),
        _res(
            f"{agent}-collaborator",
            ForgejoCollaborator,
            ForgejoCollaboratorProvider(),
            {"repo": repo, "username": Ref(u, "username"), "permission": "write", "user_id": Ref(u, "user_id")},
            replace="collaborator" in replace,
        ),
    ]
