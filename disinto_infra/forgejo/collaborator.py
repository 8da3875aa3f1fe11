"""Write access of a bot user on the project repository: `ForgejoCollaborator` and its provider.

Forgejo's collaborator PUT is idempotent (a re-PUT sets the permission), so create, update and a
retry after a lost answer are the same request. Forgejo ignores an unknown permission silently
(and grants write), so `check` refuses anything but read, write and admin.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from disinto_infra.forgejo import connection
from disinto_infra.forgejo.base import ForgejoProvider, Props, args_props, as_int, differs, is_unknown, user_recreated
from disinto_infra.forgejo.client import ForgejoClient, ForgejoError, path

PERMISSIONS = ("read", "write", "admin")
# The order of what `…/collaborators/{u}/permission` answers (docs/decisions/collaborator-permission.md).
RANK = {"none": 0, "read": 1, "write": 2, "admin": 3, "owner": 4}


def settled(wanted: str, effective: str) -> str:
    """The permission a refresh records: the wanted one while the effective access is at least that.

    Forgejo answers the user's *effective* access, teams and ownership included: a bot in a stronger
    team of the owning organization reads `admin`, and recording that would make every `up` repeat
    the PUT (docs/decisions/collaborator-permission.md).
    """
    return wanted if RANK.get(effective, 0) >= RANK.get(wanted, 0) else effective


@dataclass(frozen=True)
class CollaboratorState:
    repo: str
    username: str
    permission: str
    user_id: int = 0
    # What Forgejo reports the user may do on the repository, teams and ownership included: higher than
    # `permission` when another grant gives more (shown by `pulumi refresh` and in the outputs).
    effective_permission: str = "write"

    @property
    def id(self) -> str:
        return f"{self.repo}:{self.username}"

    def url(self, *rest: str) -> str:
        owner, name = self.repo.split("/", 1)
        return path("repos", owner, name, "collaborators", self.username, *rest)

    @classmethod
    def from_props(cls, props: Props) -> CollaboratorState:
        permission = props.get("permission", "write")
        return cls(
            repo=props["repo"],
            username=props["username"],
            permission=permission,
            user_id=as_int(props.get("user_id")),
            # After our PUT a plain collaborator has what we granted; a refresh reads the real value,
            # so only a difference (more access through a team, say) shows as a change there.
            effective_permission=props.get("effective_permission") or permission,
        )


def _grant(client: ForgejoClient, conn: connection.Connection, state: CollaboratorState) -> None:
    client.request("PUT", state.url(), auth=conn.admin_auth, json={"permission": state.permission}, ok=(204,))


class ForgejoCollaboratorProvider(ForgejoProvider):
    def check(self, olds: Props, news: Props) -> CheckResult:
        failures = []
        repo, permission = news.get("repo"), news.get("permission", "write")
        if not is_unknown(repo) and (not isinstance(repo, str) or repo.count("/") != 1 or "" in repo.split("/")):
            failures.append(CheckFailure("repo", f"expected 'owner/name', got {repo!r}"))
        if not is_unknown(permission) and permission not in PERMISSIONS:
            failures.append(CheckFailure("permission", f"expected one of {', '.join(PERMISSIONS)}, got {permission!r}"))
        return CheckResult({**news, "permission": permission}, failures)

    def create(self, props: Props) -> CreateResult:
        conn = connection.current()
        state = CollaboratorState.from_props(props)
        with conn.client() as client:
            _grant(client, conn, state)
        return CreateResult(state.id, asdict(state))

    def diff(self, id_: str, olds: Props, news: Props) -> DiffResult:
        replaces = [k for k in ("repo", "username") if differs(olds.get(k), news.get(k))]
        if user_recreated(olds, news):
            replaces.append("user_id")
        changes = bool(replaces) or differs(olds.get("permission"), news.get("permission", "write"))
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=True)

    def update(self, id_: str, olds: Props, news: Props) -> UpdateResult:
        conn = connection.current()
        state = CollaboratorState.from_props(news)
        with conn.client() as client:
            _grant(client, conn, state)
        return UpdateResult(asdict(state))

    def read(self, id_: str, props: Props) -> ReadResult:
        conn = connection.current()
        state = CollaboratorState.from_props(props)
        with conn.client() as client:
            try:
                client.request("GET", state.url(), auth=conn.admin_auth, ok=(204,))
                answer = client.request("GET", state.url("permission"), auth=conn.admin_auth).as_object()
            except ForgejoError as exc:
                if exc.status in (404, 422):  # not a collaborator, or no such user/repo
                    return ReadResult(id_="", outs={})
                raise
        effective = str(answer["permission"])
        return ReadResult(
            id_=id_,
            outs={
                **asdict(state),
                "permission": settled(state.permission, effective),
                "effective_permission": effective,
            },
        )

    def delete(self, id_: str, props: Props) -> None:
        conn = connection.current()
        state = CollaboratorState.from_props(props)
        with conn.client() as client:
            client.request("DELETE", state.url(), auth=conn.admin_auth, ok=(204, 404, 422))


@dataclass
class ForgejoCollaboratorArgs:
    repo: pulumi.Input[str]
    username: pulumi.Input[str]
    permission: pulumi.Input[str] = "write"
    # The user's `user_id`: a user made again lost its grants, so a new id replaces this too.
    user_id: pulumi.Input[int] | None = None


class ForgejoCollaborator(Resource, module="forgejo", name="Collaborator"):
    """A user's access to a repository (type `pulumi-python:dynamic/forgejo:Collaborator`)."""

    SECRET_OUTPUTS: tuple[str, ...] = ()
    # Same repo, same user after a replacement: remove the old grant first, or the engine's
    # delete of the old one would revoke the access just granted.
    DELETE_BEFORE_REPLACE = True

    repo: pulumi.Output[str]
    username: pulumi.Output[str]
    permission: pulumi.Output[str]

    def __init__(self, name: str, args: ForgejoCollaboratorArgs, opts: pulumi.ResourceOptions | None = None):
        own = pulumi.ResourceOptions(delete_before_replace=self.DELETE_BEFORE_REPLACE)
        super().__init__(ForgejoCollaboratorProvider(), name, args_props(args), pulumi.ResourceOptions.merge(own, opts))
