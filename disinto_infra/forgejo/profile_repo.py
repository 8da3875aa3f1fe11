"""Each agent's private `<user>/.profile` repository: `ForgejoProfileRepo` and its provider.

The repository holds the agent's role formula (`formula.toml`), `journal/` and `knowledge/` folders
and a README describing that layout, plus an unprotected `journal` branch. `main` is protected by the
rule of `profile_rule`, which the provider keeps in line. Everything goes through the API as the site
admin, one re-entrant step at a time (repository, files, branch, rule), so a lost answer or an
existing repository converges. Removing the resource keeps the repository: it is the agent's history.
Why: docs/decisions/profile-repo-steps.md, docs/decisions/profile-repo-protection.md
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import partial

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from disinto_infra import parsed
from disinto_infra.config.formula_file import formula_problem
from disinto_infra.forgejo import connection, profile_rule
from disinto_infra.forgejo.base import ForgejoProvider, Props, args_props, as_int, differs, is_unknown
from disinto_infra.forgejo.client import (
    ForgejoClient,
    ForgejoError,
    MovedError,
    Response,
    object_id,
    path,
    retry_transient,
)
from disinto_infra.forgejo.profile_rule import MAIN_BRANCH
from disinto_infra.parsed import JsonObject

REPO_NAME = ".profile"
JOURNAL_BRANCH = "journal"
FORMULA_FILE = "formula.toml"
README_FILE = "README.md"
KEEP_FILES = ("journal/.gitkeep", "knowledge/.gitkeep")
# Not empty: some Forgejo versions refuse an empty `content`. Why: docs/decisions/profile-repo-steps.md
KEEP_CONTENT = "# keeps this folder in git\n"
COMMIT_PREFIX = "disinto-infra"

Conn = connection.Connection


def default_readme(username: str) -> str:
    """The README.md put in the repository when the program gives none: the layout and its rules."""
    return f"""# {username}'s .profile

Profile repository of the disinto agent `{username}`, managed by disinto-infra.

## Layout

```
{username}/.profile/
├── formula.toml    # the agent's role formula (copied from the factory's formulas/)
├── journal/        # issue-by-issue journal entries (journal/archive/: digested ones)
├── knowledge/      # knowledge and best practices the agent keeps (lessons-learned.md)
└── README.md
```

## Branches

- `main` is protected. The agent pushes commits that touch only `journal/` and `knowledge/`
  directly; any other change (the formula above all) goes through a pull request that needs one
  approval and that only the factory's admin merges. The rule binds this repository's admins, the
  agent itself among them; Forgejo's site admins can always merge past it.
  disinto-infra rewrites `formula.toml` here when the factory's formula file changes.
- `journal` is not protected: a branch the agent may also push journal entries to.
"""


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ------------------------------------------------------------------------------- state and wanted
@dataclass(frozen=True)
class Wanted:
    """What the inputs ask for."""

    username: str
    formula: str
    formula_source: str
    readme: str

    @classmethod
    def from_props(cls, props: Props) -> Wanted:
        username = props["username"]
        readme = props.get("readme")
        return cls(
            username=username,
            formula=props["formula"],
            formula_source=props.get("formula_source", ""),
            readme=readme if readme else default_readme(username),
        )

    def files(self) -> list[tuple[str, str, bool]]:
        """(path, content, enforced): enforced files are rewritten when they differ; keep files only exist."""
        return [
            (FORMULA_FILE, self.formula, True),
            *((keep, KEEP_CONTENT, False) for keep in KEEP_FILES),
            (README_FILE, self.readme, True),
        ]

    def message(self, file_path: str) -> str:
        if file_path == FORMULA_FILE and self.formula_source:
            return f"{COMMIT_PREFIX}: {FORMULA_FILE} from {self.formula_source}"
        return f"{COMMIT_PREFIX}: {file_path} of {self.username}'s profile"


@dataclass(frozen=True)
class ProfileRepoState:
    """Every output; diff/update/read/delete get these back."""

    username: str
    repo: str
    repo_id: int
    formula_source: str
    formula_sha256: str
    formula_file_sha: str
    readme_sha256: str
    journal_branch: str
    protected_branch: str
    # The rule's comparable settings as last written or read (profile_rule.observed); {} when unknown.
    protection_rule: JsonObject
    # What a refresh found that no write can repair: where the repository moved ("" if it did not),
    # and whether its owner archived it. The agent owns its .profile and may do either.
    moved_to: str = ""
    archived: bool = False

    @classmethod
    def from_outputs(cls, outs: Props) -> ProfileRepoState:
        username = outs["username"]
        return cls(
            username=username,
            repo=outs.get("repo", f"{username}/{REPO_NAME}"),
            repo_id=as_int(outs.get("repo_id")),
            formula_source=outs.get("formula_source", ""),
            formula_sha256=outs.get("formula_sha256", ""),
            formula_file_sha=outs.get("formula_file_sha", ""),
            readme_sha256=outs.get("readme_sha256", ""),
            journal_branch=outs.get("journal_branch", ""),
            protected_branch=outs.get("protected_branch", ""),
            protection_rule=dict(outs.get("protection_rule") or {}),
            moved_to=str(outs.get("moved_to") or ""),
            archived=bool(outs.get("archived", False)),
        )

    def outputs(self) -> Props:
        return asdict(self)


# ------------------------------------------------------------------------------------ the steps
# Each step is one re-entrant attempt (run under `retry_transient`): it finds out what an earlier
# attempt whose answer was lost already did, and treats "already there" as success.


def _repo_path(username: str, *rest: str) -> str:
    return path("repos", username, REPO_NAME, *rest)


def _contents_path(username: str, file_path: str) -> str:
    return _repo_path(username, "contents", *file_path.split("/"))


def _get_or_none(
    client: ForgejoClient, conn: Conn, api_path: str, params: dict[str, str | int] | None = None
) -> JsonObject | None:
    """The object at `api_path` (a repository, a file, a branch, a rule); None when there is none."""
    try:
        return parsed.as_object(client.request("GET", api_path, auth=conn.admin_auth, params=params).body)
    except ForgejoError as exc:
        if exc.status == 404:
            return None
        raise


def _ensure_repo(client: ForgejoClient, conn: Conn, username: str) -> int:
    create = path("admin", "users", username, "repos")
    body = {
        "name": REPO_NAME,
        "description": f"{username}'s profile: role formula, journal and knowledge (managed by disinto-infra)",
        "private": True,
        "auto_init": False,
        "default_branch": MAIN_BRANCH,
    }
    try:
        return object_id(client.request("POST", create, auth=conn.admin_auth, json=body, ok=(201,)).as_object())
    except ForgejoError as exc:
        if exc.status == 404:
            why = f"{exc.message}: Forgejo user {username!r} not found (its .profile is made after the user)"
            raise ForgejoError(exc.method, exc.path, exc.status, why) from None
        if exc.status != 409:
            raise
    found = _get_or_none(client, conn, _repo_path(username))  # 409: it exists (ours from a lost answer, or older)
    if found is None:
        raise ForgejoError("POST", create, 409, f"{username}/{REPO_NAME} reported as existing but not found")
    return object_id(found)


def _read_file(client: ForgejoClient, conn: Conn, username: str, file_path: str) -> tuple[str, str] | None:
    """(git blob sha, text) of a file on main, or None when it is not there."""
    body = _get_or_none(client, conn, _contents_path(username, file_path), params={"ref": MAIN_BRANCH})
    if body is None or body.get("type", "file") != "file":
        return None
    raw = base64.b64decode(parsed.text(body, "content") or "")
    return str(body.get("sha", "")), raw.decode("utf-8", errors="replace")


def _encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def _no_main(client: ForgejoClient, conn: Conn, username: str, exc: ForgejoError) -> ForgejoError:
    """A `.profile` that is not empty but has no `main`: its first push went to another branch.

    Forgejo says so only as a 404 on a file write or a 500 on a branch made from `main`.
    Why: docs/decisions/profile-repo-steps.md
    """
    found = _get_or_none(client, conn, _repo_path(username)) or {}
    default = found.get("default_branch") or "another branch"
    why = (
        f"{exc.message}: {username}/{REPO_NAME} has commits but no {MAIN_BRANCH} branch: its first push went to "
        f"{default!r} (the old tooling pushed to master). Rename {default!r} to {MAIN_BRANCH} in the repository's "
        f"settings (branches), or push it as {MAIN_BRANCH}, then run `pulumi up` again"
    )
    return ForgejoError(exc.method, exc.path, exc.status, why)


class PushRefusedError(ForgejoError):
    """A 403 on a contents write: the branch rule on main does not let the provider's identity push."""


def _push_refused(exc: ForgejoError, conn: Conn, username: str) -> PushRefusedError:
    why = (
        f"{exc.message}: the branch protection rule on {username}/{REPO_NAME} {MAIN_BRANCH} does not let "
        f"{conn.admin_user!r} push (Forgejo gives site admins no bypass; the provider puts that user on the "
        f"rule's push whitelist and tries once more): disinto:adminUser must name the identity the provider "
        f"acts as (the admin token's owner), or remove the rule so it is made anew"
    )
    return PushRefusedError(exc.method, exc.path, exc.status, why)


def _blob_sha(answer: Response) -> str:
    """The git blob sha of a FileResponse's `content` (a string); KeyError without one."""
    sha = parsed.text(parsed.object_or_empty(answer.as_object().get("content")), "sha")
    if sha is None:
        raise KeyError("content.sha")
    return sha


def _put_file(client: ForgejoClient, conn: Conn, want: Wanted, file_path: str, text: str, sha: str) -> str:
    """Rewrite a file in place; a stale sha (422 on v11, 409 later) is fine if the file now holds our text."""
    body = {"content": _encoded(text), "sha": sha, "message": want.message(file_path), "branch": MAIN_BRANCH}
    try:
        answer = client.request("PUT", _contents_path(want.username, file_path), auth=conn.admin_auth, json=body)
        return _blob_sha(answer)
    except ForgejoError as exc:
        if exc.status == 403:
            raise _push_refused(exc, conn, want.username) from None
        if exc.status not in (409, 422):
            raise
        now = _read_file(client, conn, want.username, file_path)
        if now is None or now[1] != text:  # not an earlier PUT of ours whose answer was lost
            raise
        return now[0]


def _ensure_file(client: ForgejoClient, conn: Conn, want: Wanted, file_path: str, text: str, enforced: bool) -> str:
    """Create a file on main (422: already there); an enforced file that differs is rewritten. → blob sha."""
    body = {"content": _encoded(text), "message": want.message(file_path), "branch": MAIN_BRANCH}
    try:
        target = _contents_path(want.username, file_path)
        made = client.request("POST", target, auth=conn.admin_auth, json=body, ok=(201,))
        return _blob_sha(made)
    except ForgejoError as exc:
        if exc.status == 403:
            raise _push_refused(exc, conn, want.username) from None
        if exc.status == 404:
            raise _no_main(client, conn, want.username, exc) from None
        if exc.status != 422:
            raise
        refused = exc
    current = _read_file(client, conn, want.username, file_path)
    if current is None:  # a 422 about something else
        raise refused
    sha, existing = current
    if existing == text or not enforced:
        return sha
    return _put_file(client, conn, want, file_path, text, sha)


def _sync_file(client: ForgejoClient, conn: Conn, want: Wanted, file_path: str, text: str) -> str:
    """Update in place: the current sha first, then PUT with it (or create it if it went missing)."""
    current = _read_file(client, conn, want.username, file_path)
    if current is None:
        return _ensure_file(client, conn, want, file_path, text, True)
    sha, existing = current
    return sha if existing == text else _put_file(client, conn, want, file_path, text, sha)


def _ensure_journal_branch(client: ForgejoClient, conn: Conn, username: str) -> None:
    body = {"new_branch_name": JOURNAL_BRANCH, "old_ref_name": MAIN_BRANCH}
    try:
        client.request("POST", _repo_path(username, "branches"), auth=conn.admin_auth, json=body, ok=(201,))
    except ForgejoError as exc:
        if exc.status == 409:  # already there
            return
        if exc.status == 404:  # an empty repository (docs/decisions/profile-repo-steps.md)
            why = (
                f"{exc.message}: {username}/{REPO_NAME} has no commit yet to start {JOURNAL_BRANCH} from "
                f"(its files are written first: run `pulumi up` again)"
            )
            raise ForgejoError(exc.method, exc.path, exc.status, why) from None
        if exc.status == 500:  # old_ref_name `main` does not resolve
            raise _no_main(client, conn, username, exc) from None
        raise


def _rule_path(username: str) -> str:
    return _repo_path(username, "branch_protections", MAIN_BRANCH)


def _patch_rule(client: ForgejoClient, conn: Conn, username: str) -> JsonObject:
    """Bring the existing rule in line in place; → its settings as Forgejo now reports them."""
    body = profile_rule.edit_body(conn.admin_user)
    answer = client.request("PATCH", _rule_path(username), auth=conn.admin_auth, json=body).as_object()
    settings = profile_rule.observed(answer, conn.admin_user)
    left = profile_rule.drift(settings)
    if left:  # never store a rule as repaired when Forgejo did not take the change
        why = f"the rule on {username}/{REPO_NAME} {MAIN_BRANCH} still differs after the update in: {', '.join(left)}"
        raise ForgejoError("PATCH", _rule_path(username), 200, why)
    return settings


def _align_protection(client: ForgejoClient, conn: Conn, username: str, rule: JsonObject) -> JsonObject:
    settings = profile_rule.observed(rule, conn.admin_user)
    return _patch_rule(client, conn, username) if profile_rule.drift(settings) else settings


def _ensure_protection(client: ForgejoClient, conn: Conn, username: str, *, known: bool = False) -> JsonObject:
    """The rule on main as wanted (a new one, or an existing one PATCHed in line); → its settings.

    `known`: the state says a rule exists, so look first instead of trying to create one.
    """
    if known:
        rule = _get_or_none(client, conn, _rule_path(username))
        if rule is not None:
            return _align_protection(client, conn, username, rule)
    rules = _repo_path(username, "branch_protections")
    try:
        body = profile_rule.protection_rule(conn.admin_user)
        made = client.request("POST", rules, auth=conn.admin_auth, json=body, ok=(201,))
        return profile_rule.observed(made.as_object(), conn.admin_user)
    except ForgejoError as exc:
        if exc.status != 403:
            raise
        refused = exc
    # 403 is both "a rule for main exists" and "not allowed": only a rule we can see is one to align.
    rule = _get_or_none(client, conn, _rule_path(username))
    if rule is None:
        raise refused
    return _align_protection(client, conn, username, rule)


def unusable(state: ProfileRepoState) -> str | None:
    """Why the `.profile` cannot be written to as it stands, with what to do; None if it can."""
    repo = f"{state.username}/{REPO_NAME}"
    if state.moved_to:
        return (
            f"{repo} was renamed or moved (Forgejo redirects it to {state.moved_to}): the factory's agents read "
            f"their formula and journal from {repo} only. Nothing was changed. Rename or move it back in the "
            f"repository's settings, then run `pulumi up` again"
        )
    if state.archived:
        return (
            f"{repo} is archived: Forgejo refuses every write to it (HTTP 423), so neither this program nor the "
            f"agent can update its formula or journal. Nothing was changed. Unarchive it (repository settings, "
            f"danger zone), then run `pulumi up` again"
        )
    return None


def _writing(client: ForgejoClient, conn: Conn, username: str, write: Callable[[], str]) -> str:
    """A file write on main; refused (403), the rule is brought in line (PATCH, whatever its JSON
    shows: a whitelisted admin may not be listed there) and the write tried once more. Archived
    since the last refresh (423): said as such. Why: docs/decisions/profile-repo-protection.md"""
    try:
        try:
            return write()
        except PushRefusedError:
            if _get_or_none(client, conn, _rule_path(username)) is None:
                raise
            _patch_rule(client, conn, username)
        return write()
    except ForgejoError as exc:
        if exc.status != 423:
            raise
        why = unusable(ProfileRepoState.from_outputs({"username": username, "archived": True}))
        raise ForgejoError(exc.method, exc.path, exc.status, f"{exc.message}: {why}") from None


# ------------------------------------------------------------------------------------- provider
class ForgejoProfileRepoProvider(ForgejoProvider):
    def check(self, olds: Props, news: Props) -> CheckResult:
        failures = []
        username, formula, source = news.get("username"), news.get("formula"), news.get("formula_source", "")
        readme = news.get("readme")
        if not is_unknown(username) and (not isinstance(username, str) or not username):
            failures.append(CheckFailure("username", f"expected a Forgejo user name, got {username!r}"))
        where = source if isinstance(source, str) and source else "the formula"
        # The same judge as the offline checks (config/formula_file.py): what validate accepts, check accepts.
        problem = None if is_unknown(formula) else formula_problem(formula, where)
        if problem:
            failures.append(CheckFailure("formula", problem))
        if readme is not None and not is_unknown(readme) and not isinstance(readme, str):
            failures.append(CheckFailure("readme", f"expected text, got {type(readme).__name__}"))
        return CheckResult(news, failures)

    def create(self, props: Props) -> CreateResult:
        conn = connection.current()
        want = Wanted.from_props(props)
        user = want.username
        with conn.client() as client:
            repo_id = retry_transient(lambda: _ensure_repo(client, conn, user))
            shas = {}
            for file_path, text, enforced in want.files():
                write = partial(_ensure_file, client, conn, want, file_path, text, enforced)
                shas[file_path] = retry_transient(partial(_writing, client, conn, user, write))
            retry_transient(lambda: _ensure_journal_branch(client, conn, user))
            rule = retry_transient(lambda: _ensure_protection(client, conn, user))
        state = ProfileRepoState(
            username=user,
            repo=f"{user}/{REPO_NAME}",
            repo_id=repo_id,
            formula_source=want.formula_source,
            formula_sha256=sha256_hex(want.formula),
            formula_file_sha=shas[FORMULA_FILE],
            readme_sha256=sha256_hex(want.readme),
            journal_branch=JOURNAL_BRANCH,
            protected_branch=MAIN_BRANCH,
            protection_rule=rule,
        )
        return CreateResult(state.repo, state.outputs())

    def diff(self, id_: str, olds: Props, news: Props) -> DiffResult:
        # No request: this runs on every preview and up. The formula_source path alone is no change.
        if differs(olds.get("username"), news.get("username")):
            return DiffResult(changes=True, replaces=["username"], delete_before_replace=False)
        changed = []
        formula = news.get("formula")
        if is_unknown(formula) or sha256_hex(formula or "") != olds.get("formula_sha256"):
            changed.append("formula")
        readme = news.get("readme")
        if is_unknown(readme) or sha256_hex(readme or default_readme(news["username"])) != olds.get("readme_sha256"):
            changed.append("readme")
        # A refresh found the branch or the rule missing, or the rule differing (or the state predates
        # the rule's settings being recorded): the update puts them back.
        repair = olds.get("journal_branch") != JOURNAL_BRANCH or olds.get("protected_branch") != MAIN_BRANCH
        repair = repair or bool(profile_rule.drift(olds.get("protection_rule")))
        repair = repair or bool(olds.get("moved_to")) or olds.get("archived") is True  # update says why
        return DiffResult(changes=bool(changed) or repair, replaces=[], delete_before_replace=False)

    def update(self, id_: str, olds: Props, news: Props) -> UpdateResult:
        conn = connection.current()
        old = ProfileRepoState.from_outputs(olds)
        want = Wanted.from_props({**news, "username": old.username})
        user = old.username
        file_sha, rule = old.formula_file_sha, old.protection_rule
        if why := unusable(old):
            raise ForgejoError("GET", _repo_path(user), None, f"{why} (found by the last refresh)")
        with conn.client() as client:
            if sha256_hex(want.formula) != old.formula_sha256 or not file_sha:
                write = partial(_sync_file, client, conn, want, FORMULA_FILE, want.formula)
                file_sha = retry_transient(partial(_writing, client, conn, user, write))
            if sha256_hex(want.readme) != old.readme_sha256:
                write = partial(_sync_file, client, conn, want, README_FILE, want.readme)
                retry_transient(partial(_writing, client, conn, user, write))
            if old.journal_branch != JOURNAL_BRANCH:
                retry_transient(lambda: _ensure_journal_branch(client, conn, user))
            if old.protected_branch != MAIN_BRANCH or profile_rule.drift(rule):
                known = old.protected_branch == MAIN_BRANCH
                rule = retry_transient(lambda: _ensure_protection(client, conn, user, known=known))
        new = replace(
            old,
            formula_source=want.formula_source,
            formula_sha256=sha256_hex(want.formula),
            formula_file_sha=file_sha,
            readme_sha256=sha256_hex(want.readme),
            journal_branch=JOURNAL_BRANCH,
            protected_branch=MAIN_BRANCH,
            protection_rule=rule,
        )
        return UpdateResult(new.outputs())

    def read(self, id_: str, props: Props) -> ReadResult:
        conn = connection.current()
        old = ProfileRepoState.from_outputs(props)
        user = old.username
        with conn.client() as client:
            try:
                found = _get_or_none(client, conn, _repo_path(user))
            except MovedError as exc:
                return ReadResult(id_=id_, outs=replace(old, moved_to=exc.location).outputs())
            if found is None:
                return ReadResult(id_="", outs={})
            formula = _read_file(client, conn, user, FORMULA_FILE)
            readme = _read_file(client, conn, user, README_FILE)
            branch = _get_or_none(client, conn, _repo_path(user, "branches", JOURNAL_BRANCH))
            rule = _get_or_none(client, conn, _rule_path(user))
        now = replace(
            old,
            repo_id=object_id(found),
            formula_sha256=sha256_hex(formula[1]) if formula else "",
            formula_file_sha=formula[0] if formula else "",
            readme_sha256=sha256_hex(readme[1]) if readme else "",
            journal_branch=JOURNAL_BRANCH if branch is not None else "",
            protected_branch=MAIN_BRANCH if rule is not None else "",
            protection_rule=profile_rule.observed(rule, conn.admin_user) if rule is not None else {},
            moved_to="",
            archived=found.get("archived") is True,
        )
        return ReadResult(id_=id_, outs=now.outputs())

    def delete(self, id_: str, props: Props) -> None:
        # Deliberately nothing: removing an agent keeps its .profile (formula history, journal,
        # knowledge). The resource is registered with retain_on_delete (the Agent component sets it
        # too), so the engine does not even call this; a replacement (new username) keeps the old repo.
        return None


@dataclass
class ForgejoProfileRepoArgs:
    username: pulumi.Input[str]
    formula: pulumi.Input[str]  # the formula file's content, read on the Pulumi host (see config/formula_file.py)
    formula_source: pulumi.Input[str]  # the path it came from, for messages
    readme: pulumi.Input[str] | None = None  # README.md; None: default_readme(username)


class ForgejoProfileRepo(Resource, module="forgejo", name="ProfileRepo"):
    """An agent's private `<user>/.profile` repository (type `pulumi-python:dynamic/forgejo:ProfileRepo`).

    Deleting it keeps the repository: `delete` does nothing, and the resource registers itself with
    `retain_on_delete` (the Agent sets it too), so the engine does not even ask.
    """

    # The options every instance gets, kept here so tests can hold the engine to the same.
    SECRET_OUTPUTS: tuple[str, ...] = ()
    # A new username is another repository: create the new one first; the old one is kept anyway.
    DELETE_BEFORE_REPLACE = False
    RETAIN_ON_DELETE = True

    username: pulumi.Output[str]
    repo: pulumi.Output[str]
    repo_id: pulumi.Output[int]
    formula_source: pulumi.Output[str]
    formula_sha256: pulumi.Output[str]
    formula_file_sha: pulumi.Output[str]
    readme_sha256: pulumi.Output[str]
    journal_branch: pulumi.Output[str]
    protected_branch: pulumi.Output[str]
    protection_rule: pulumi.Output[JsonObject]

    def __init__(self, name: str, args: ForgejoProfileRepoArgs, opts: pulumi.ResourceOptions | None = None):
        computed = ("repo", "repo_id", "formula_sha256", "formula_file_sha", "readme_sha256", "journal_branch")
        props = {**args_props(args), **dict.fromkeys((*computed, "protected_branch", "protection_rule"))}
        own = pulumi.ResourceOptions(
            delete_before_replace=self.DELETE_BEFORE_REPLACE, retain_on_delete=self.RETAIN_ON_DELETE
        )
        super().__init__(ForgejoProfileRepoProvider(), name, props, pulumi.ResourceOptions.merge(own, opts))
