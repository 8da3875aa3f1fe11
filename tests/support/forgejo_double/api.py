"""The Forgejo 11 API logic of the double: authentication, the middleware checks in
Forgejo's order, and the endpoint handlers. No sockets here: ``Api.handle(ctx)`` turns a
parsed request into a ``Response``. Everything runs under ``State.lock``.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .state import (
    ACCESS_MODES,
    MODE_NAMES,
    RESERVED_REPO_NAMES,
    RESERVED_REPO_PATTERNS,
    RESERVED_USER_PATTERNS,
    RESERVED_USERNAMES,
    ScopeError,
    State,
    alpha_dash_dot_ok,
    binding_email_ok,
    git_ref_name_ok,
    go_parse_bool,
    go_parse_int,
    matches_file_patterns,
    model_email_ok,
    normalize_scopes,
    now_iso,
    scope_allows,
    valid_username_syntax,
)

VERSION = "11.0.15+gitea-1.22.0"
NOT_FOUND = "The target couldn't be found."
MIN_PASSWORD_LENGTH = 8
_WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-able, or None for no body
    headers: dict = field(default_factory=dict)


class ApiError(Exception):
    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


@dataclass
class Ctx:
    """One request as the API layer sees it."""

    method: str
    path: str  # full percent-decoded path, e.g. /api/v1/version
    segments: list  # decoded segments after /api/v1
    query: dict
    headers: Any  # case-insensitive mapping (email.message.Message)
    body_bytes: bytes = b""
    raw_path: str = ""  # as sent, still percent-encoded: a redirect rewrites it
    raw_query: str = ""
    doer: dict | None = None
    auth_kind: str = "none"  # "token" | "basic" | "none"
    token: dict | None = None
    password_auth: bool = False


# Go struct layouts used by ``bind``: (json name, Go field, Go type, binding rules),
# in struct order (the first failing field is the one reported).
_STRUCTS = {
    "CreateUserOption": [
        ("source_id", "SourceID", "int64", []),
        ("login_name", "LoginName", "string", []),
        ("username", "Username", "string", ["Required", "Username", "MaxSize(40)"]),
        ("full_name", "FullName", "string", ["MaxSize(100)"]),
        ("email", "Email", "string", ["Required", "Email", "MaxSize(254)"]),
        ("password", "Password", "string", ["MaxSize(255)"]),
        ("must_change_password", "MustChangePassword", "bool", []),
        ("send_notify", "SendNotify", "bool", []),
        ("restricted", "Restricted", "bool", []),
        ("visibility", "Visibility", "string", ["In(,public,limited,private)"]),
        ("created_at", "Created", "time", []),
    ],
    "EditUserOption": [
        ("source_id", "SourceID", "int64", []),
        ("login_name", "LoginName", "string", []),
        ("email", "Email", "string", ["MaxSize(254)"]),
        ("full_name", "FullName", "string", ["MaxSize(100)"]),
        ("password", "Password", "string", ["MaxSize(255)"]),
        ("must_change_password", "MustChangePassword", "bool", []),
        ("website", "Website", "string", ["MaxSize(255)"]),
        ("location", "Location", "string", ["MaxSize(50)"]),
        ("description", "Description", "string", ["MaxSize(255)"]),
        ("pronouns", "Pronouns", "string", []),
        ("active", "Active", "bool", []),
        ("admin", "Admin", "bool", []),
        ("allow_git_hook", "AllowGitHook", "bool", []),
        ("allow_import_local", "AllowImportLocal", "bool", []),
        ("max_repo_creation", "MaxRepoCreation", "int64", []),
        ("prohibit_login", "ProhibitLogin", "bool", []),
        ("allow_create_organization", "AllowCreateOrganization", "bool", []),
        ("restricted", "Restricted", "bool", []),
        ("visibility", "Visibility", "string", ["In(,public,limited,private)"]),
    ],
    "CreateAccessTokenOption": [
        ("name", "Name", "string", ["Required"]),
        ("scopes", "Scopes", "[]string", []),
    ],
    "CreateRepoOption": [
        ("name", "Name", "string", ["Required", "AlphaDashDot", "MaxSize(100)"]),
        ("description", "Description", "string", ["MaxSize(2048)"]),
        ("private", "Private", "bool", []),
        ("issue_labels", "IssueLabels", "string", []),
        ("auto_init", "AutoInit", "bool", []),
        ("template", "Template", "bool", []),
        ("gitignores", "Gitignores", "string", []),
        ("license", "License", "string", []),
        ("readme", "Readme", "string", []),
        ("default_branch", "DefaultBranch", "string", ["GitRefName", "MaxSize(100)"]),
        ("trust_model", "TrustModel", "string", ["In(,default,collaborator,committer,collaboratorcommitter)"]),
        ("object_format_name", "ObjectFormatName", "string", ["In(,sha1,sha256)"]),
    ],
    "AddCollaboratorOption": [("permission", "Permission", "string", [])],
    "CreateFileOptions": [
        ("branch", "BranchName", "string", ["GitRefName", "MaxSize(100)"]),
        ("new_branch", "NewBranchName", "string", ["GitRefName", "MaxSize(100)"]),
        ("message", "Message", "string", []),
        ("author", "Author", "object", []),
        ("committer", "Committer", "object", []),
        ("dates", "Dates", "object", []),
        ("signoff", "Signoff", "bool", []),
        ("content", "ContentBase64", "string", ["Required"]),
    ],
    "UpdateFileOptions": [
        ("branch", "BranchName", "string", ["GitRefName", "MaxSize(100)"]),
        ("new_branch", "NewBranchName", "string", ["GitRefName", "MaxSize(100)"]),
        ("message", "Message", "string", []),
        ("author", "Author", "object", []),
        ("committer", "Committer", "object", []),
        ("dates", "Dates", "object", []),
        ("signoff", "Signoff", "bool", []),
        ("content", "ContentBase64", "string", ["Required"]),
        ("sha", "SHA", "string", ["Required"]),
        ("from_path", "FromPath", "string", []),
    ],
    "CreateBranchRepoOption": [
        ("new_branch_name", "BranchName", "string", ["Required", "GitRefName", "MaxSize(100)"]),
        ("old_branch_name", "OldBranchName", "string", ["GitRefName", "MaxSize(100)"]),
        ("old_ref_name", "OldRefName", "string", ["GitRefName", "MaxSize(100)"]),
    ],
    "CreateBranchProtectionOption": [
        ("branch_name", "BranchName", "string", []),
        ("rule_name", "RuleName", "string", []),
        ("enable_push", "EnablePush", "bool", []),
        ("enable_push_whitelist", "EnablePushWhitelist", "bool", []),
        ("push_whitelist_usernames", "PushWhitelistUsernames", "[]string", []),
        ("push_whitelist_teams", "PushWhitelistTeams", "[]string", []),
        ("push_whitelist_deploy_keys", "PushWhitelistDeployKeys", "bool", []),
        ("enable_merge_whitelist", "EnableMergeWhitelist", "bool", []),
        ("merge_whitelist_usernames", "MergeWhitelistUsernames", "[]string", []),
        ("merge_whitelist_teams", "MergeWhitelistTeams", "[]string", []),
        ("enable_status_check", "EnableStatusCheck", "bool", []),
        ("status_check_contexts", "StatusCheckContexts", "[]string", []),
        ("required_approvals", "RequiredApprovals", "int64", []),
        ("enable_approvals_whitelist", "EnableApprovalsWhitelist", "bool", []),
        ("approvals_whitelist_username", "ApprovalsWhitelistUsernames", "[]string", []),
        ("approvals_whitelist_teams", "ApprovalsWhitelistTeams", "[]string", []),
        ("block_on_rejected_reviews", "BlockOnRejectedReviews", "bool", []),
        ("block_on_official_review_requests", "BlockOnOfficialReviewRequests", "bool", []),
        ("block_on_outdated_branch", "BlockOnOutdatedBranch", "bool", []),
        ("dismiss_stale_approvals", "DismissStaleApprovals", "bool", []),
        ("ignore_stale_approvals", "IgnoreStaleApprovals", "bool", []),
        ("require_signed_commits", "RequireSignedCommits", "bool", []),
        ("protected_file_patterns", "ProtectedFilePatterns", "string", []),
        ("unprotected_file_patterns", "UnprotectedFilePatterns", "string", []),
        ("apply_to_admins", "ApplyToAdmins", "bool", []),
    ],
}

# PATCH body: the create option less the rule's name (the path names the rule).
_STRUCTS["EditBranchProtectionOption"] = [
    f for f in _STRUCTS["CreateBranchProtectionOption"] if f[0] not in ("branch_name", "rule_name")
]

_PROTECTION_BOOLS = (
    "enable_push",
    "enable_push_whitelist",
    "push_whitelist_deploy_keys",
    "enable_merge_whitelist",
    "enable_status_check",
    "enable_approvals_whitelist",
    "block_on_rejected_reviews",
    "block_on_official_review_requests",
    "block_on_outdated_branch",
    "dismiss_stale_approvals",
    "ignore_stale_approvals",
    "require_signed_commits",
    "apply_to_admins",
)


def _json_kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_ok(gotype: str, value) -> bool:
    if gotype == "string" or gotype == "time":
        return isinstance(value, str)
    if gotype == "int64":
        return isinstance(value, int) and not isinstance(value, bool)
    if gotype == "bool":
        return isinstance(value, bool)
    if gotype == "object":
        return isinstance(value, dict)
    return isinstance(value, list)


class Api:
    def __init__(self, state: State, base_url_fn):
        self.state = state
        self._base_url_fn = base_url_fn
        self.routes = [
            ("GET", "version", self.h_version),
            ("GET", "user", self.h_get_self),
            ("GET", "user/repos", self.h_list_own_repos),
            ("PUT", "user/block/{username}", self.h_block_user),
            ("POST", "user/repos", self.h_create_own_repo),
            ("GET", "users/{username}", self.h_get_user),
            ("GET", "orgs/{org}", self.h_get_org),
            ("GET", "users/{username}/tokens", self.h_list_tokens),
            ("GET", "users/{username}/keys", self.h_list_keys),
            ("DELETE", "admin/users/{username}/keys/{id}", self.h_admin_delete_key),
            ("POST", "users/{username}/tokens", self.h_create_token),
            ("DELETE", "users/{username}/tokens/{token}", self.h_delete_token),
            ("GET", "admin/users", self.h_admin_list_users),
            ("POST", "admin/users", self.h_admin_create_user),
            ("PATCH", "admin/users/{username}", self.h_admin_edit_user),
            ("DELETE", "admin/users/{username}", self.h_admin_delete_user),
            ("POST", "admin/users/{username}/repos", self.h_admin_create_repo),
            ("GET", "repos/{owner}/{repo}", self.h_get_repo),
            ("DELETE", "repos/{owner}/{repo}", self.h_delete_repo),
            ("GET", "repos/{owner}/{repo}/collaborators", self.h_list_collaborators),
            ("GET", "repos/{owner}/{repo}/collaborators/{collaborator}", self.h_is_collaborator),
            ("PUT", "repos/{owner}/{repo}/collaborators/{collaborator}", self.h_add_collaborator),
            ("DELETE", "repos/{owner}/{repo}/collaborators/{collaborator}", self.h_delete_collaborator),
            ("GET", "repos/{owner}/{repo}/collaborators/{collaborator}/permission", self.h_collaborator_permission),
            ("GET", "repos/{owner}/{repo}/contents/{*filepath}", self.h_get_contents),
            ("POST", "repos/{owner}/{repo}/contents/{*filepath}", self.h_create_file),
            ("PUT", "repos/{owner}/{repo}/contents/{*filepath}", self.h_update_file),
            ("GET", "repos/{owner}/{repo}/branches", self.h_list_branches),
            ("POST", "repos/{owner}/{repo}/branches", self.h_create_branch),
            ("GET", "repos/{owner}/{repo}/branches/{*branch}", self.h_get_branch),
            ("GET", "repos/{owner}/{repo}/branch_protections", self.h_list_protections),
            ("POST", "repos/{owner}/{repo}/branch_protections", self.h_create_protection),
            ("GET", "repos/{owner}/{repo}/branch_protections/{name}", self.h_get_protection),
            ("PATCH", "repos/{owner}/{repo}/branch_protections/{name}", self.h_edit_protection),
            ("DELETE", "repos/{owner}/{repo}/branch_protections/{name}", self.h_delete_protection),
        ]

    # ------------------------------------------------------------------ basics
    @property
    def url(self) -> str:
        return self._base_url_fn()

    @property
    def api_url(self) -> str:
        return self.url + "/api/v1"

    @property
    def swagger_url(self) -> str:
        return self.url + "/api/swagger"

    def error(self, status: int, message: str) -> ApiError:
        return ApiError(status, {"message": message, "url": self.swagger_url})

    def not_found(self, *objs) -> ApiError:
        """Forgejo's ctx.NotFound: strings replace the message, errors are listed."""
        message, errors = NOT_FOUND, None
        for obj in objs:
            if isinstance(obj, Exception):
                errors = (errors or []) + [str(obj)]
            elif obj is not None:
                message = obj
        return ApiError(404, {"message": message, "url": self.swagger_url, "errors": errors})

    # --------------------------------------------------------------- dispatch
    def handle(self, ctx: Ctx) -> Response:
        with self.state.lock:
            try:
                self._authenticate(ctx)
                self._check_account(ctx)
                self._sudo(ctx)
                handler, params = self._route(ctx)
                return handler(ctx, **params)
            except ApiError as exc:
                body = exc.body
                if exc.status == 500 and not (ctx.doer and ctx.doer["is_admin"]):
                    body = dict(body, message="")
                return Response(exc.status, body, exc.headers)

    def _route(self, ctx: Ctx):
        segs = ctx.segments
        for method, pattern, handler in self.routes:
            if method != ctx.method:
                continue
            parts = pattern.split("/")
            params = {}
            ok = True
            for i, part in enumerate(parts):
                if part.startswith("{*"):
                    rest = segs[i:]
                    if not rest or not "".join(rest):
                        ok = False
                    else:
                        params[part[2:-1]] = "/".join(rest)
                    break
                if i >= len(segs):
                    ok = False
                    break
                if part.startswith("{"):
                    if segs[i] == "":
                        ok = False
                        break
                    params[part[1:-1]] = segs[i]
                elif part != segs[i]:
                    ok = False
                    break
            else:
                ok = ok and len(segs) == len(parts)
            if ok:
                return handler, params
        raise self.not_found()

    # ---------------------------------------------------------- authentication
    def _authenticate(self, ctx: Ctx) -> None:
        header = (ctx.headers.get("Authorization") or "").strip()
        scheme, _, cred = header.partition(" ")
        scheme = scheme.lower()
        cred = cred.strip()
        token_str = ctx.query.get("token") or ctx.query.get("access_token") or None
        if token_str is None and scheme in ("token", "bearer") and cred:
            token_str = cred
        if token_str is not None:
            ctx.auth_kind = "token"
            tok = self.state.token_by_plain(token_str)
            if tok is None:
                raise self.error(401, "access token does not exist")
            ctx.token, ctx.doer = tok, self.state.users[tok["uid"]]
            return
        if scheme != "basic":
            return
        try:
            uname, _, passwd = base64.b64decode(cred, validate=False).decode("utf-8", "replace").partition(":")
        except (binascii.Error, ValueError):
            uname, passwd = "", ""
        username_is_token = passwd in ("", "x-oauth-basic")
        tok = self.state.token_by_plain(uname if username_is_token else passwd)
        if tok is not None:
            ctx.auth_kind = "token"
            ctx.token, ctx.doer = tok, self.state.users[tok["uid"]]
            return
        if not self.state.settings.basic_auth:
            # services/auth/basic.go:128-130 @ v11.0.15: with ENABLE_BASIC_AUTHENTICATION=false a
            # password is not even tried (a token as the password still works, above): anonymous.
            return
        ctx.auth_kind = "basic"
        user = self.state.user_by_name(uname)
        if user is None and "@" in uname:
            user = self.state.user_by_email(uname)
        if user is None:
            raise self.error(401, f"user does not exist [uid: 0, name: {uname}]")
        if not self.state.check_password(user, passwd):
            # services/auth/source/db/authenticate.go:21-22, 36-38, 53-54 @ v11.0.15.
            words = "isn't set" if not user.get("password_hash") else "is invalid"
            raise self.error(401, f"user's password {words} [uid: {user['id']}, name: {user['login']}]")
        if user["prohibit_login"]:
            raise self.error(401, f"user is not allowed login [uid: {user['id']}, name: {user['login']}]")
        if user.get("webauthn"):
            # basic.go:141-149 @ v11.0.15: a security key refuses basic auth, checked before TOTP.
            raise self.error(401, "Basic authorization is not allowed while having security keys enrolled")
        if user.get("totp") is not None:
            # basic.go:151-155 and validateTOTP (171-185): a user with TOTP needs X-Forgejo-OTP (or
            # X-Gitea-OTP); any error from Verify is a 401 (routers/api/shared/middleware.go:57-60).
            otp = ctx.headers.get("X-Forgejo-OTP") or ctx.headers.get("X-Gitea-OTP") or ""
            if otp != user["totp"]:
                raise self.error(401, "invalid provided OTP")
        ctx.doer, ctx.password_auth = user, True

    def _check_account(self, ctx: Ctx) -> None:
        doer = ctx.doer
        if doer is None:
            return
        if not doer["active"] or doer["prohibit_login"]:
            raise ApiError(
                403, {"message": "This account is prohibited from signing in, please contact your site administrator."}
            )
        if doer["must_change_password"]:
            raise ApiError(
                403, {"message": f"You must change your password. Change it at: {self.url}/" + "/user/change_password"}
            )

    def _sudo(self, ctx: Ctx) -> None:
        target = ctx.query.get("sudo") or ctx.headers.get("Sudo") or ""
        if not target:
            return
        if ctx.doer is not None and ctx.doer["is_admin"]:
            user = self.state.user_by_name(target)
            if user is None:
                raise self.not_found()
            ctx.doer = user
            return
        raise ApiError(403, {"message": "Only administrators allowed to sudo."})

    # ------------------------------------------------------------- middleware
    def _scope(self, ctx: Ctx, *categories: str) -> None:
        if ctx.token is None:
            return
        level = "write" if ctx.method in _WRITE_METHODS else "read"
        required = [f"{level}:{c}" for c in categories]
        if not all(scope_allows(ctx.token["scopes"], r) for r in required):
            raise self.error(403, f"token does not have at least one of required scope(s): [{' '.join(required)}]")

    def _public_only(self, ctx: Ctx) -> bool:
        return ctx.token is not None and "public-only" in ctx.token["scopes"]

    def _req_token(self, ctx: Ctx) -> None:
        if ctx.doer is None:
            raise self.error(401, "token is required")

    def _req_site_admin(self, ctx: Ctx) -> None:
        if not (ctx.doer and ctx.doer["is_admin"]):
            raise self.error(403, "user should be the site admin")

    def _req_basic(self, ctx: Ctx) -> None:
        if not ctx.password_auth:
            raise self.error(401, "auth method not allowed")

    def _is_site_admin(self, ctx: Ctx) -> bool:
        return bool(ctx.doer and ctx.doer["is_admin"])

    def _assign_user(self, ctx: Ctx, username: str) -> dict:
        if ctx.doer is not None and ctx.doer["lower_name"] == username.lower():
            return ctx.doer
        user = self.state.user_by_name(username)
        if user is None:
            self._redirect_user(ctx, username)
            raise self.error(404, f"user redirect does not exist [name: {username}]")
        return user

    def _redirect(self, ctx: Ctx, old: str, new: str) -> None:
        """ctx.Redirect(…, 307) with the first `old` of the escaped path replaced by `new`, the
        query kept (services/context/user.go RedirectToUser, repo.go RedirectToRepo @ v11.0.15)."""
        location = ctx.raw_path.replace(old, new, 1) + (f"?{ctx.raw_query}" if ctx.raw_query else "")
        raise ApiError(307, None, {"Location": location})

    def _redirect_user(self, ctx: Ctx, name: str) -> None:
        """A renamed user's old name answers 307 for every method (UserAssignmentAPI → LookupUserRedirect)."""
        uid = self.state.user_redirects.get(name.lower())
        if uid is not None and uid in self.state.users:
            self._redirect(ctx, quote(name, safe=""), quote(self.state.users[uid]["login"], safe=""))

    def _redirect_repo(self, ctx: Ctx, owner: str, name: str) -> None:
        """A renamed or transferred repository's old path answers 307 (repoAssignment → LookupRedirect)."""
        rid = self.state.repo_redirects.get(f"{owner}/{name}".lower())
        repo = self.state.repos.get(rid) if rid is not None else None
        if repo is not None:
            new_owner = self.state.users[repo["owner_id"]]["login"]
            old = f"{quote(owner, safe='')}/{quote(name, safe='')}"
            self._redirect(ctx, old, f"{quote(new_owner, safe='')}/{quote(repo['name'], safe='')}")

    def _user_group(self, ctx: Ctx, username: str) -> dict:
        """/users/{username} group: scope user, assignment, public-only, visibility."""
        self._scope(ctx, "user")
        user = self._assign_user(ctx, username)
        if self._public_only(ctx) and user["visibility"] != "public":
            raise self.error(403, "token scope is limited to public users")
        if user["visibility"] == "private":
            if ctx.doer is None or (ctx.doer["id"] != user["id"] and not ctx.doer["is_admin"]):
                raise self.not_found("Visit Project")
        elif user["visibility"] == "limited" and ctx.doer is None:
            raise self.not_found("Visit Project")
        return user

    def _self_or_admin(self, ctx: Ctx, user: dict) -> None:
        if not self._is_site_admin(ctx) and (ctx.doer is None or ctx.doer["id"] != user["id"]):
            raise self.error(403, "doer should be the site admin or be same as the contextUser")

    def access_mode(self, repo: dict, user: dict | None) -> int:
        owner = self.state.users[repo["owner_id"]]
        collab = ACCESS_MODES[repo["collaborators"][user["id"]]] if user and user["id"] in repo["collaborators"] else 0
        if user is not None:
            # Access through the owning organization's teams counts too (GetUserRepoPermission,
            # models/perm/access/repo_permission.go:236-262 @ v11.0.15).
            collab = max(collab, ACCESS_MODES[repo["team_access"].get(user["id"], "none")])
        if user is None:
            if repo["private"] or owner["visibility"] != "public":
                return 0
            return ACCESS_MODES["read"]
        if user["is_admin"] or user["id"] == repo["owner_id"]:
            return ACCESS_MODES["owner"]
        if owner["visibility"] == "private" and not collab:
            return 0
        if repo["private"] or (user["restricted"] and not collab):
            return collab
        return max(ACCESS_MODES["read"], collab)

    def _repo_group(self, ctx: Ctx, owner_name: str, repo_name: str, category: str = "repository"):
        """/repos/{owner}/{repo} group: scope, repoAssignment, public-only check."""
        self._scope(ctx, category)
        if ctx.doer is not None and ctx.doer["lower_name"] == owner_name.lower():
            owner = ctx.doer
        else:
            owner = self.state.user_by_name(owner_name)
            if owner is None:
                self._redirect_user(ctx, owner_name)
                raise self.not_found("GetUserByName", LookupError(f"user redirect does not exist [name: {owner_name}]"))
        repo = self.state.repo_by_name(owner, repo_name)
        if repo is None:
            self._redirect_repo(ctx, owner_name, repo_name)
            raise self.not_found()
        mode = self.access_mode(repo, ctx.doer)
        if mode < ACCESS_MODES["read"]:
            raise self.not_found()
        if self._public_only(ctx) and repo["private"]:
            raise self.error(403, "token scope is limited to public repos")
        return repo, mode

    def _req_repo_admin(self, ctx: Ctx, mode: int) -> None:
        if mode < ACCESS_MODES["admin"] and not self._is_site_admin(ctx):
            raise self.error(403, "user should be an owner or a collaborator with admin write of a repository")

    def _req_repo_writer(self, ctx: Ctx, mode: int) -> None:
        if mode < ACCESS_MODES["write"] and not self._is_site_admin(ctx):
            raise self.error(403, "user should have a permission to write to a repo")

    def _not_archived(self, repo: dict) -> None:
        if repo["archived"]:
            owner = self.state.users[repo["owner_id"]]
            # mustNotBeArchived (routers/api/v1/api.go:754-757), repo.LogString (models/repo/repo.go:259-264) @ v11.0.15.
            raise self.error(423, f"<Repository {repo['id']}:{owner['login']}/{repo['name']}> is archived")

    # ----------------------------------------------------------------- binding
    def _bind(self, ctx: Ctx, struct: str) -> dict:
        """go-chi binding + Forgejo's bind(): content type, JSON decode, rules -> 422."""
        ctype = (ctx.headers.get("Content-Type") or "").lower()
        fields = _STRUCTS[struct]
        raw: Any = {}
        if "form-urlencoded" in ctype:
            from urllib.parse import parse_qs

            raw = {k: v[-1] for k, v in parse_qs(ctx.body_bytes.decode("utf-8", "replace")).items()}
        elif "multipart/form-data" in ctype:
            raw = {}
        elif "json" in ctype:
            text = ctx.body_bytes.decode("utf-8", "replace").strip()
            if text:
                try:
                    raw = json.loads(text)
                except ValueError as exc:
                    raise self.error(422, f"[]: invalid character in JSON body: {exc.msg}") from None
                if not isinstance(raw, dict) and raw is not None:
                    raise self.error(
                        422, f"[]: json: cannot unmarshal {_json_kind(raw)} into Go value of type structs.{struct}"
                    )
                raw = raw or {}
        elif ctx.method in ("POST", "PUT", "PATCH") or ctype:
            raise self.error(422, "[]: Empty Content-Type" if not ctype else "[]: Unsupported Content-Type")
        form: dict = {}
        lowered = {k.lower(): k for k in raw}
        for jname, _goname, gotype, _ in fields:
            key = jname if jname in raw else lowered.get(jname.lower())
            if key is None or raw[key] is None:
                continue
            value = raw[key]
            if "json" in ctype:
                if not _type_ok(gotype, value):
                    raise self.error(
                        422,
                        f"[]: json: cannot unmarshal {_json_kind(value)} into Go struct "
                        f"field {struct}.{jname} of type {gotype.replace('object', 'struct')}",
                    )
                if gotype == "[]string" and any(not isinstance(v, str) for v in value):
                    bad = next(v for v in value if not isinstance(v, str))
                    raise self.error(
                        422,
                        f"[]: json: cannot unmarshal {_json_kind(bad)} into Go struct "
                        f"field {struct}.{jname} of type string",
                    )
            elif isinstance(value, str) and gotype == "bool":
                value = go_parse_bool(value)
            elif isinstance(value, str) and gotype == "int64":
                value = go_parse_int(value)
            elif isinstance(value, str) and gotype == "[]string":
                value = [value]
            form[jname] = value
        for jname, goname, gotype, rules in fields:
            value = form.get(jname)
            for rule in rules:
                msg = self._rule_error(rule, value, gotype)
                if msg:
                    raise self.error(422, f"[{goname}]: {msg}")
        return form

    @staticmethod
    def _rule_error(rule: str, value, gotype: str):
        if rule == "Required":
            return "Required" if value is None or value == "" or value == [] else None
        if value in (None, ""):
            return None
        text = value if isinstance(value, str) else str(value)
        if rule.startswith("MaxSize("):
            return "MaxSize" if len(text) > int(rule[8:-1]) else None
        if rule.startswith("In("):
            return "In" if text not in rule[3:-1].split(",") else None
        if rule == "Username":
            return None if valid_username_syntax(text) else "invalid username"
        if rule == "Email":
            return None if binding_email_ok(text) else "Email"
        if rule == "AlphaDashDot":
            return None if alpha_dash_dot_ok(text) else "AlphaDashDot"
        if rule == "GitRefName":
            return None if git_ref_name_ok(text) else "GitRefName"
        return None

    # ---------------------------------------------------------------- helpers
    def _paginate(self, ctx: Ctx, items: list):
        def form_int(name):
            v = ctx.query.get(name, "")
            return int(v) if re.fullmatch(r"[+-]?\d+", v or "") else 0

        page = form_int("page")
        limit = form_int("limit")
        page = page if page > 0 else 1
        # [api] MAX_RESPONSE_ITEMS caps a page (services/context/api.go GetListOptions, setting/api.go:24).
        limit = 30 if limit <= 0 else min(limit, self.state.settings.max_response_items)
        start = (page - 1) * limit
        return items[start : start + limit], {"X-Total-Count": str(len(items))}

    def user_json(self, user: dict, doer: dict | None, *, signed=None, authed=None) -> dict:
        if signed is None:
            signed = doer is not None
        if authed is None:
            authed = doer is not None and (doer["is_admin"] or doer["id"] == user["id"])
        email = (
            user["email"]
            if signed and (not user["keep_email_private"] or authed)
            else f"{user['lower_name']}@noreply.localhost"
        )
        return {
            "id": user["id"],
            "login": user["login"],
            "login_name": user["login_name"] if authed else "",
            "source_id": user["source_id"] if authed else 0,
            "full_name": user["full_name"],
            "email": email,
            "avatar_url": f"{self.url}/avatars/{hashlib.md5(user['email'].lower().encode()).hexdigest()}",
            "html_url": f"{self.url}/{quote(user['login'])}",
            "language": user["language"] if authed else "",
            "is_admin": bool(authed and user["is_admin"]),
            "last_login": user["last_login"] if authed else "0001-01-01T00:00:00Z",
            "created": user["created"],
            "restricted": user["restricted"],
            "active": bool(authed and user["active"]),
            "prohibit_login": bool(authed and user["prohibit_login"]),
            "location": user["location"],
            "pronouns": user["pronouns"],
            "website": user["website"],
            "description": user["description"],
            "visibility": user["visibility"],
            "followers_count": 0,
            "following_count": 0,
            "starred_repos_count": 0,
        }

    def repo_json(self, repo: dict, mode: int) -> dict:
        owner = self.state.users[repo["owner_id"]]
        full = f"{owner['login']}/{repo['name']}"
        html = f"{self.url}/{full}"
        host = self.url.split("://", 1)[-1].split(":")[0]
        return {
            "id": repo["id"],
            "owner": self.user_json(owner, None, signed=mode > 0, authed=False),
            "name": repo["name"],
            "full_name": full,
            "description": repo["description"],
            "empty": repo["empty"],
            "private": repo["private"],
            "fork": False,
            "template": repo["template"],
            "mirror": False,
            "size": 0,
            "language": "",
            "languages_url": f"{self.api_url}/repos/{full}/languages",
            "html_url": html,
            "url": f"{self.api_url}/repos/{full}",
            "link": "",
            "ssh_url": f"git@{host}:{full}.git",
            "clone_url": f"{html}.git",
            "original_url": "",
            "website": repo["website"],
            "stars_count": 0,
            "forks_count": 0,
            "watchers_count": 1,
            "open_issues_count": 0,
            "open_pr_counter": 0,
            "release_counter": 0,
            "default_branch": repo["default_branch"],
            "archived": repo["archived"],
            "created_at": repo["created"],
            "updated_at": repo["updated"],
            "archived_at": "1970-01-01T00:00:00Z",
            "permissions": {
                "admin": mode >= ACCESS_MODES["admin"],
                "push": mode >= ACCESS_MODES["write"],
                "pull": mode >= ACCESS_MODES["read"],
            },
            "has_issues": True,
            "internal_tracker": {
                "enable_time_tracker": True,
                "allow_only_contributors_to_track_time": True,
                "enable_issue_dependencies": True,
            },
            "has_wiki": True,
            "wiki_branch": repo["default_branch"],
            "globally_editable_wiki": False,
            "has_pull_requests": True,
            "has_projects": True,
            "has_releases": True,
            "has_packages": True,
            "has_actions": True,
            "ignore_whitespace_conflicts": False,
            "allow_merge_commits": True,
            "allow_rebase": True,
            "allow_rebase_explicit": True,
            "allow_squash_merge": True,
            "allow_fast_forward_only_merge": True,
            "allow_rebase_update": True,
            "default_delete_branch_after_merge": False,
            "default_merge_style": "merge",
            "default_update_style": "merge",
            "default_allow_maintainer_edit": False,
            "avatar_url": "",
            "internal": False,
            "mirror_interval": "",
            "object_format_name": "sha1",
            "mirror_updated": "0001-01-01T00:00:00Z",
            "topics": [],
        }

    def _full(self, repo: dict) -> str:
        return f"{self.state.users[repo['owner_id']]['login']}/{repo['name']}"

    def _contents_json(self, repo: dict, ref: str, path: str, entry: dict, kind: str = "file") -> dict:
        full = self._full(repo)
        qpath = quote(path)
        self_url = f"{self.api_url}/repos/{full}/contents/{qpath}?ref={quote(ref, safe='')}"
        ref_kind = "commit" if ref in repo["commits"] else "branch"
        html = f"{self.url}/{full}/src/{ref_kind}/{quote(ref)}/{qpath}"
        if kind == "file":
            git_url = f"{self.api_url}/repos/{full}/git/blobs/{entry['sha']}"
            out = {
                "name": posixpath.basename(path),
                "path": path,
                "sha": entry["sha"],
                "last_commit_sha": entry["last_commit"],
                "type": "file",
                "size": len(entry["content"]),
                "encoding": "base64",
                "content": base64.b64encode(entry["content"]).decode(),
                "download_url": f"{self.url}/{full}/raw/{ref_kind}/{quote(ref)}/{qpath}",
            }
        else:
            git_url = f"{self.api_url}/repos/{full}/git/trees/{entry['sha']}"
            out = {
                "name": posixpath.basename(path),
                "path": path,
                "sha": entry["sha"],
                "last_commit_sha": entry.get("last_commit", ""),
                "type": "dir",
                "size": 0,
            }
        out.update(
            {
                "url": self_url,
                "html_url": html,
                "git_url": git_url,
                "_links": {"self": self_url, "git": git_url, "html": html},
            }
        )
        return out

    def _commit_user(self, commit: dict) -> dict:
        a = commit["author"]
        return {"name": a["name"], "email": a["email"], "date": commit["created"]}

    def _file_commit_json(self, repo: dict, commit: dict) -> dict:
        full = self._full(repo)
        api = f"{self.api_url}/repos/{full}/git"
        return {
            "url": f"{api}/commits/{commit['sha']}",
            "sha": commit["sha"],
            "created": commit["created"],
            "html_url": f"{self.url}/{full}/commit/{commit['sha']}",
            "author": self._commit_user(commit),
            "committer": self._commit_user(commit),
            "parents": [
                {"url": f"{api}/commits/{p}", "sha": p, "created": repo["commits"][p]["created"]}
                for p in commit["parents"]
            ],
            "message": commit["message"],
            "tree": {"url": f"{api}/trees/{commit['tree']}", "sha": commit["tree"], "created": commit["created"]},
        }

    @staticmethod
    def _verification() -> dict:
        return {"verified": False, "reason": "gpg.error.not_signed_commit", "signature": "", "payload": ""}

    def _payload_commit(self, repo: dict, commit: dict) -> dict:
        full = self._full(repo)
        a = commit["author"]
        ident = {"name": a["name"], "email": a["email"], "username": a["username"]}
        return {
            "id": commit["sha"],
            "message": commit["message"],
            "url": f"{self.url}/{full}/commit/{commit['sha']}",
            "author": ident,
            "committer": dict(ident),
            "verification": self._verification(),
            "timestamp": commit["created"],
            "added": [],
            "removed": [],
            "modified": [],
        }

    # branch protection helpers
    @staticmethod
    def _rule_matches(rule_name: str, branch: str) -> bool:
        if not any(ch in rule_name for ch in "*?["):
            return rule_name == branch
        regex = ""
        i = 0
        while i < len(rule_name):
            ch = rule_name[i]
            if rule_name.startswith("**", i):
                regex += ".*"
                i += 2
                continue
            if ch == "*":
                regex += "[^/]*"
            elif ch == "?":
                regex += "[^/]"
            else:
                regex += re.escape(ch) if ch != "[" else "["
            i += 1
        try:
            return re.fullmatch(regex, branch) is not None
        except re.error:
            return fnmatch.fnmatchcase(branch, rule_name)

    def _protection_for(self, repo: dict, branch: str):
        rules = repo["protections"]
        for rule in rules:
            if rule["rule_name"] == branch:
                return rule
        for rule in rules:
            if any(ch in rule["rule_name"] for ch in "*?[") and self._rule_matches(rule["rule_name"], branch):
                return rule
        return None

    @staticmethod
    def _rule_allows_push(rule: dict, user: dict) -> bool:
        """ProtectedBranch.CanUserPush for a user with write access: no site-admin bypass."""
        if not rule["enable_push"]:
            return False
        if not rule["enable_push_whitelist"]:
            return True
        return user["id"] in rule["push_whitelist_ids"]

    def _verify_branch_protection(self, repo: dict, branch: str, doer: dict, tree_path: str) -> None:
        """services/repository/files/update.go VerifyBranchProtection, for one path of a contents write.

        CanUserPush has no bypass for site admins (apply_to_admins or not); a path matching the
        rule's unprotected_file_patterns may be written by anyone who passed the write check.
        """
        rule = self._protection_for(repo, branch)
        if rule is None:
            return
        if not self._rule_allows_push(rule, doer) and not matches_file_patterns(
            rule["unprotected_file_patterns"], tree_path
        ):
            raise self.error(403, f"user cannot commit to repo [user: {doer['lower_name']}]")
        if matches_file_patterns(rule["protected_file_patterns"], tree_path):
            raise self.error(403, f"path is protected and can not be changed [path: {tree_path}]")

    def _can_push(self, repo: dict, user: dict | None, mode: int, branch: str) -> bool:
        if user is None or mode < ACCESS_MODES["write"]:
            return False
        rule = self._protection_for(repo, branch)
        return rule is None or self._rule_allows_push(rule, user)

    def _branch_json(self, repo: dict, name: str, ctx: Ctx, mode: int) -> dict:
        branch = repo["branches"][name]
        rule = self._protection_for(repo, name)
        can_push = self._can_push(repo, ctx.doer, mode, name)
        return {
            "name": name,
            "commit": self._payload_commit(repo, repo["commits"][branch["commit"]]),
            "protected": rule is not None,
            "required_approvals": rule["required_approvals"] if rule else 0,
            "enable_status_check": rule["enable_status_check"] if rule else False,
            "status_check_contexts": list(rule["status_check_contexts"]) if rule else [],
            "user_can_push": can_push,
            "user_can_merge": can_push,
            "effective_branch_protection_name": rule["rule_name"] if rule else "",
        }

    def _protection_json(self, repo: dict, rule: dict) -> dict:
        # convert.ToBranchProtection lists a whitelisted user only when it is one of the repo's
        # readers (GetRepoReaders: the access table, i.e. collaborators, plus a user owner):
        # a site admin on the whitelist who is neither is left out of the answer.
        readers = {repo["owner_id"], *repo["collaborators"]}

        def names(ids):
            return [self.state.users[i]["login"] for i in ids if i in self.state.users and i in readers]

        out = {k: rule[k] for k in _PROTECTION_BOOLS}
        out.update(
            {
                "branch_name": rule["rule_name"],
                "rule_name": rule["rule_name"],
                "push_whitelist_usernames": names(rule["push_whitelist_ids"]),
                "push_whitelist_teams": [],
                "merge_whitelist_usernames": names(rule["merge_whitelist_ids"]),
                "merge_whitelist_teams": [],
                "approvals_whitelist_username": names(rule["approvals_whitelist_ids"]),
                "approvals_whitelist_teams": [],
                "status_check_contexts": list(rule["status_check_contexts"]),
                "required_approvals": rule["required_approvals"],
                "protected_file_patterns": rule["protected_file_patterns"],
                "unprotected_file_patterns": rule["unprotected_file_patterns"],
                "created_at": rule["created_at"],
                "updated_at": rule["updated_at"],
            }
        )
        return out

    # ================================================================ handlers
    def h_version(self, ctx):
        return Response(200, {"version": VERSION})

    def h_get_self(self, ctx):
        self._scope(ctx, "user")
        self._req_token(ctx)
        return Response(200, self.user_json(ctx.doer, ctx.doer))

    def h_get_user(self, ctx, username):
        user = self._user_group(ctx, username)
        return Response(200, self.user_json(user, ctx.doer))

    def h_get_org(self, ctx, org):
        """GET /orgs/{org}: an organization only; a user's name is a 404 (orgAssignment,
        routers/api/v1/api.go:642-649 @ v11.0.15: GetOrgByName then the redirect lookup)."""
        self._scope(ctx, "organization")
        found = self.state.user_by_name(org)
        if found is None or found["type"] != "org":
            raise self.not_found("GetOrgByName", LookupError(f"user redirect does not exist [name: {org}]"))
        return Response(
            200,
            {
                "id": found["id"],
                "name": found["login"],
                "username": found["login"],
                "full_name": found["full_name"],
                "email": found["email"],
                "avatar_url": "",
                "description": found["description"],
                "website": found["website"],
                "location": found["location"],
                "visibility": found["visibility"],
                "repo_admin_change_team_access": False,
            },
        )

    # ----------------------------------------------------------------- tokens
    @staticmethod
    def _token_json(tok: dict, plain: str = "") -> dict:
        return {
            "id": tok["id"],
            "name": tok["name"],
            "sha1": plain,
            "token_last_eight": tok["token_last_eight"],
            "scopes": list(tok["scopes"]),
        }

    def h_list_tokens(self, ctx, username):
        user = self._user_group(ctx, username)
        self._self_or_admin(ctx, user)
        page, headers = self._paginate(ctx, self.state.tokens_of(user))
        return Response(200, [self._token_json(t) for t in page], headers)

    def h_create_token(self, ctx, username):
        user = self._user_group(ctx, username)
        self._self_or_admin(ctx, user)
        form = self._bind(ctx, "CreateAccessTokenOption")
        self._req_basic(ctx)
        self._req_token(ctx)
        name = form["name"]
        if any(t["name"] == name for t in self.state.tokens_of(user)):
            raise self.error(400, "access token name has been used already")
        try:
            scopes = normalize_scopes(form.get("scopes") or [])
        except ScopeError as exc:
            raise self.error(400, f"invalid access token scope provided: {exc}") from None
        if not scopes:
            raise self.error(400, "access token must have a scope")
        rec, plain = self.state.create_token(user, name, scopes)
        return Response(201, self._token_json(rec, plain))

    def h_delete_token(self, ctx, username, token):
        user = self._user_group(ctx, username)
        self._self_or_admin(ctx, user)
        self._req_basic(ctx)
        self._req_token(ctx)
        tid = go_parse_int(token)
        if tid == 0:
            matches = [t for t in self.state.tokens_of(user) if t["name"] == token]
            if not matches:
                raise self.not_found()
            if len(matches) > 1:
                raise self.error(422, f"multiple matches for token name '{token}'")
            tid = matches[0]["id"]
        rec = self.state.tokens.get(tid)
        if rec is None or rec["uid"] != user["id"]:
            raise self.not_found()
        del self.state.tokens[tid]
        return Response(204)

    def h_block_user(self, ctx, username):
        """PUT /user/block/{username}: write:user (api.go:1053-1058, 1065 @ v11.0.15); the blocked user
        also stops being a collaborator of the blocker's own repositories (services/user/block.go:60-70)."""
        self._scope(ctx, "user")
        self._req_token(ctx)
        target = self._assign_user(ctx, username)
        if target["type"] == "org":
            raise self.error(422, f"{target['login']} is an organization not a user")
        if target["id"] != ctx.doer["id"]:
            self.state.blocks.add((ctx.doer["id"], target["id"]))
            for repo in self.state.repos.values():
                if repo["owner_id"] == ctx.doer["id"]:
                    repo["collaborators"].pop(target["id"], None)
        return Response(204)

    # ---------------------------------------------------------------- SSH keys
    def _key_json(self, key: dict, ctx) -> dict:
        owner = self.state.users[key["uid"]]
        private = ctx.doer is not None and (ctx.doer["is_admin"] or ctx.doer["id"] == owner["id"])
        out = {
            "id": key["id"],
            "key": key["key"],
            "url": f"{self.api_url}/user/keys/{key['id']}",
            "title": key["title"],
            "fingerprint": key["fingerprint"],
            "created_at": key["created_at"],
            "user": self.user_json(owner, ctx.doer),
        }
        if private:  # routers/api/v1/user/key.go:92 @ v11.0.15: key_type and read_only for admins and the owner
            out.update({"key_type": "user", "read_only": False})
        return out

    def h_list_keys(self, ctx, username):
        """GET /users/{username}/keys: read:user and a signed-in caller (api.go:926, 941 @ v11.0.15)."""
        user = self._user_group(ctx, username)
        self._req_token(ctx)
        keys = sorted((k for k in self.state.ssh_keys.values() if k["uid"] == user["id"]), key=lambda k: k["id"])
        page, headers = self._paginate(ctx, keys)
        return Response(200, [self._key_json(k, ctx) for k in page], headers)

    def h_admin_delete_key(self, ctx, username, id):  # noqa: A002 (the route's own parameter name)
        """DELETE /admin/users/{username}/keys/{id} (admin/user.go:387 → services/asymkey/ssh_key.go:22
        @ v11.0.15): the key must belong to {username} (it is passed as the doer), else 403."""
        self._admin_group(ctx)
        user = self._assign_user(ctx, username)
        key = self.state.ssh_keys.get(go_parse_int(id))
        if key is None:
            raise self.not_found()
        if key["uid"] != user["id"] and not user["is_admin"]:
            raise self.error(403, "You do not have access to this key")
        del self.state.ssh_keys[key["id"]]
        return Response(204)

    # ------------------------------------------------------------------ admin
    def _admin_group(self, ctx):
        self._scope(ctx, "admin")
        self._req_token(ctx)
        self._req_site_admin(ctx)

    def h_admin_list_users(self, ctx):
        self._admin_group(ctx)
        users = sorted(self.state.users.values(), key=lambda u: u["id"])
        page, headers = self._paginate(ctx, users)
        return Response(200, [self.user_json(u, ctx.doer) for u in page], headers)

    def h_admin_create_user(self, ctx):
        self._admin_group(ctx)
        form = self._bind(ctx, "CreateUserOption")
        username, email = form["username"], form["email"]
        if form.get("source_id"):
            raise self.error(422, f"login source does not exist [id: {form['source_id']}]")
        password = form.get("password", "")
        if len(password.encode()) < MIN_PASSWORD_LENGTH:
            raise self.error(400, "PasswordIsRequired")
        if not self.state.settings.password_complex_enough(password):
            raise self.error(400, "PasswordComplexity")  # routers/api/v1/admin/user.go:105-108 @ v11.0.15
        if self.state.settings.pwn_error(password):
            # admin/user.go:111-116 @ v11.0.15: pwned and unreachable answer alike, before the name is looked at.
            raise self.error(400, "PasswordPwned")
        reserved = reserved_name_error(username)
        if reserved:
            raise self.error(422, reserved)
        if self.state.user_by_name(username) is not None:
            raise self.error(422, f"user already exists [name: {username}]")
        if not model_email_ok(email):
            raise self.error(422, f"e-mail invalid [email: {email}]")
        if self.state.user_by_email(email) is not None:
            raise self.error(422, f"e-mail already in use [email: {email}]")
        settings = self.state.settings
        # models/user/user.go @ v11.0.15: the defaults (697, 702: DEFAULT_USER_VISIBILITY, the first
        # allowed mode; DEFAULT_USER_IS_RESTRICTED) unless the form overrides them (716-732), then
        # ValidateUser refuses a mode ALLOWED_USER_VISIBILITY_MODES lacks (912-914), which
        # admin/user.go:147-148 answers with a 500.
        visibility = form.get("visibility") or settings.allowed_user_visibility[0]
        if visibility not in settings.allowed_user_visibility:
            raise self.error(500, f"visibility Mode not allowed: {visibility}")
        restricted = form.get("restricted", settings.default_user_restricted)
        user = self.state.create_user(
            username,
            password,
            email,
            full_name=form.get("full_name", ""),
            must_change_password=form.get("must_change_password", True),
            login_name=form.get("login_name", ""),
            restricted=restricted,
            visibility=visibility,
            created=form.get("created_at"),
        )
        return Response(201, self.user_json(user, ctx.doer))

    def h_admin_edit_user(self, ctx, username):
        self._admin_group(ctx)
        user = self._assign_user(ctx, username)
        form = self._bind(ctx, "EditUserOption")
        if ("source_id" in form) != ("login_name" in form):
            raise self.error(422, "source_id and login_name must be specified together")
        password = form.get("password", "")
        if form.get("source_id"):
            raise self.error(500, f"login source does not exist [id: {form['source_id']}]")
        # services/user/update.go:206 @ v11.0.15: a password is set only on a local (or OAuth2) account;
        # one that signs in through LDAP, PAM or SMTP keeps its source and the password is dropped silently.
        if password and self.state.password_is_local(user):
            if len(password.encode()) < MIN_PASSWORD_LENGTH:
                raise self.error(400, f"password must be at least {MIN_PASSWORD_LENGTH} characters")
            if not self.state.settings.password_complex_enough(password):
                raise self.error(400, "password not complex enough")  # admin/user.go:216-217
            if pwned := self.state.settings.pwn_error(password):
                raise self.error(400, pwned)  # admin/user.go:218-219, services/user/update.go:206-222
            self.state.set_password(user, password)
        if user["type"] == "org" and form.get("email") and form["email"].lower() != user["email"].lower():
            # The password above is already written (UpdateAuth, admin/user.go:212); an organization
            # has no primary e-mail row, so AdminAddOrSetPrimaryEmailAddress fails
            # (services/user/email.go:40-43) and the handler answers 500 (admin/user.go:233-234).
            raise self.error(500, "email address does not exist")
        if "source_id" in form:
            user["source_id"], user["login_name"] = form["source_id"], form["login_name"]
        if "must_change_password" in form:
            if user["must_change_password"] and self.state.quirks.patch_keeps_must_change_password:
                self.state.quirks.hit("patch_keeps_must_change_password")
            else:
                user["must_change_password"] = form["must_change_password"]
        if "prohibit_login" in form:
            user["prohibit_login"] = form["prohibit_login"]
        if "email" in form:
            email = form["email"]
            if not model_email_ok(email):
                raise self.error(400, f"e-mail invalid [email: {email}]")
            other = self.state.user_by_email(email)
            if other is not None and other["id"] != user["id"]:
                raise self.error(400, f"e-mail already in use [email: {email}]")
            user["email"] = email
        for key in ("full_name", "website", "location", "description", "pronouns"):
            if key in form:
                user[key] = form[key]
        if "active" in form:
            user["active"] = form["active"]
        if "restricted" in form:
            user["restricted"] = form["restricted"]
        if form.get("visibility"):
            user["visibility"] = form["visibility"]
        if "admin" in form:
            if not form["admin"] and user["is_admin"] and self._is_last_admin(user):
                raise self.error(400, f"can not delete the last admin user [uid: {user['id']}]")
            user["is_admin"] = form["admin"]
        return Response(200, self.user_json(user, ctx.doer))

    def _is_last_admin(self, user: dict) -> bool:
        return not any(u["is_admin"] and u["id"] != user["id"] for u in self.state.users.values())

    def h_admin_delete_user(self, ctx, username):
        self._admin_group(ctx)
        user = self._assign_user(ctx, username)
        if user["id"] == ctx.doer["id"]:
            raise self.error(422, "you cannot delete yourself")
        if user["is_admin"] and user["active"] and self._is_last_admin(user):
            raise self.error(422, f"can not delete the last admin user [uid: {user['id']}]")
        purge = go_parse_bool(ctx.query.get("purge", ""))
        if not purge and any(r["owner_id"] == user["id"] for r in self.state.repos.values()):
            raise self.error(422, f"user still has ownership of repositories [uid: {user['id']}]")
        self.state.delete_user(user, purge)
        return Response(204)

    # ------------------------------------------------------------------ repos
    def _create_repo_for(self, ctx, owner: dict, form: dict) -> Response:
        name = form["name"]
        reserved = reserved_name_error(name, repo=True)
        if reserved:
            raise self.error(422, reserved)
        if self.state.repo_by_name(owner, name) is not None:
            raise self.error(409, "The repository with the same name already exists.")
        repo = self.state.create_repo(
            owner,
            name,
            private=form.get("private", False),
            description=form.get("description", ""),
            default_branch=form.get("default_branch") or "main",
            auto_init=form.get("auto_init", False),
            template=form.get("template", False),
            author=ctx.doer,
        )
        return Response(201, self.repo_json(repo, ACCESS_MODES["owner"]))

    def h_admin_create_repo(self, ctx, username):
        self._admin_group(ctx)
        owner = self._assign_user(ctx, username)
        form = self._bind(ctx, "CreateRepoOption")
        return self._create_repo_for(ctx, owner, form)

    def _own_repos_group(self, ctx):
        self._scope(ctx, "user")
        self._req_token(ctx)
        self._scope(ctx, "repository")

    def h_create_own_repo(self, ctx):
        self._own_repos_group(ctx)
        form = self._bind(ctx, "CreateRepoOption")
        return self._create_repo_for(ctx, ctx.doer, form)

    def h_list_own_repos(self, ctx):
        self._own_repos_group(ctx)
        uid = ctx.doer["id"]
        repos = sorted(
            (r for r in self.state.repos.values() if r["owner_id"] == uid or uid in r["collaborators"]),
            key=lambda r: r["id"],
        )
        page, headers = self._paginate(ctx, repos)
        return Response(200, [self.repo_json(r, self.access_mode(r, ctx.doer)) for r in page], headers)

    def h_get_repo(self, ctx, owner, repo):
        rec, mode = self._repo_group(ctx, owner, repo)
        return Response(200, self.repo_json(rec, mode))

    def h_delete_repo(self, ctx, owner, repo):
        rec, mode = self._repo_group(ctx, owner, repo)
        self._req_token(ctx)
        if mode < ACCESS_MODES["owner"] and not self._is_site_admin(ctx):
            raise self.error(403, "user should be the owner of the repo")
        del self.state.repos[rec["id"]]
        return Response(204)

    # ---------------------------------------------------------- collaborators
    def _collab_group(self, ctx, owner, repo):
        rec, mode = self._repo_group(ctx, owner, repo)
        self._req_token(ctx)
        return rec, mode

    def _lookup_user(self, name: str, status: int) -> dict:
        user = self.state.user_by_name(name)
        if user is None:
            raise self.error(status, f"user does not exist [uid: 0, name: {name}]")
        return user

    def h_list_collaborators(self, ctx, owner, repo):
        rec, _ = self._collab_group(ctx, owner, repo)
        users = sorted((self.state.users[uid] for uid in rec["collaborators"]), key=lambda u: u["id"])
        page, headers = self._paginate(ctx, users)
        return Response(200, [self.user_json(u, ctx.doer) for u in page], headers)

    def h_is_collaborator(self, ctx, owner, repo, collaborator):
        rec, _ = self._collab_group(ctx, owner, repo)
        user = self._lookup_user(collaborator, 422)
        if user["id"] in rec["collaborators"]:
            return Response(204)
        raise self.not_found()

    def h_add_collaborator(self, ctx, owner, repo, collaborator):
        rec, mode = self._collab_group(ctx, owner, repo)
        self._req_repo_admin(ctx, mode)
        form = self._bind(ctx, "AddCollaboratorOption")
        user = self._lookup_user(collaborator, 422)
        if not user["active"]:
            raise self.error(500, "collaborator's account is inactive")
        blocks = self.state.blocks
        if (rec["owner_id"], user["id"]) in blocks or (user["id"], rec["owner_id"]) in blocks:
            # modules/repository/collaborator.go:18-20, routers/api/v1/repo/collaborators.go:187-190 @ v11.0.15.
            raise self.error(403, "user is blocked by the poster or repository owner")
        rec["collaborators"].setdefault(user["id"], "write")
        perm = form.get("permission")
        if perm in ("read", "write", "admin"):
            rec["collaborators"][user["id"]] = perm
        return Response(204)

    def h_delete_collaborator(self, ctx, owner, repo, collaborator):
        rec, mode = self._collab_group(ctx, owner, repo)
        self._req_repo_admin(ctx, mode)
        user = self._lookup_user(collaborator, 422)
        rec["collaborators"].pop(user["id"], None)
        return Response(204)

    def h_collaborator_permission(self, ctx, owner, repo, collaborator):
        rec, mode = self._collab_group(ctx, owner, repo)
        user = self._lookup_user(collaborator, 404)
        if not self._is_site_admin(ctx) and ctx.doer["id"] != user["id"] and mode < ACCESS_MODES["admin"]:
            raise self.error(
                403,
                "Only admins can query all permissions, repo admins can query all repo "
                "permissions, collaborators can query only their own",
            )
        name = MODE_NAMES[self.access_mode(rec, user)]
        return Response(200, {"permission": name, "role_name": name, "user": self.user_json(user, ctx.doer)})

    # --------------------------------------------------------------- contents
    def _snapshot_for(self, repo: dict, ref: str):
        if ref in repo["branches"]:
            return repo["branches"][ref]["files"]
        commit = repo["commits"].get(ref)
        return commit["files"] if commit else None

    def h_get_contents(self, ctx, owner, repo, filepath):
        rec, _ = self._repo_group(ctx, owner, repo)
        ref = ctx.query.get("ref") or rec["default_branch"]
        path = posixpath.normpath("/" + filepath).lstrip("/")
        files = self._snapshot_for(rec, ref)
        if files is None:
            raise self.not_found("GetContentsOrList", LookupError(f"object does not exist [id: {ref}, rel_path: ]"))
        if path in files:
            return Response(200, self._contents_json(rec, ref, path, files[path]))
        prefix = path + "/"
        children: dict = {}
        for p, entry in files.items():
            if p.startswith(prefix):
                head, _, rest = p[len(prefix) :].partition("/")
                if rest:
                    tree = hashlib.sha1(f"{rec['id']}:{ref}:{prefix}{head}".encode()).hexdigest()
                    children.setdefault(head, ("dir", {"sha": tree, "last_commit": entry["last_commit"]}))
                else:
                    children[head] = ("file", entry)
        if not children:
            raise self.not_found("GetContentsOrList", LookupError(f"object does not exist [id: , rel_path: {path}]"))
        listing = []
        for name in sorted(children):
            kind, entry = children[name]
            item = self._contents_json(rec, ref, prefix + name, entry, kind)
            if kind == "file":
                item.pop("content")
                item.pop("encoding")
            listing.append(item)
        return Response(200, listing)

    def _write_file(self, ctx, owner, repo, filepath, *, update: bool) -> Response:
        rec, mode = self._repo_group(ctx, owner, repo)
        self._req_token(ctx)
        form = self._bind(ctx, "UpdateFileOptions" if update else "CreateFileOptions")
        branch_opt = form.get("branch", "")
        # canWriteFiles: write on the code unit (a site admin has it); branch protection comes later.
        if not (self._is_site_admin(ctx) or mode >= ACCESS_MODES["write"]):
            raise self.error(403, "user should have a permission to write to this branch")
        self._not_archived(rec)
        try:
            content = base64.b64decode(form["content"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise self.error(422, f"illegal base64 data: {exc}") from None
        raw_path = filepath
        tree_path = posixpath.normpath("/" + raw_path).lstrip("/")
        if not tree_path or any(part in (".git", "..", ".") for part in tree_path.split("/")):
            raise self.error(422, f"path contains a malformed path component [path: {raw_path}]")
        old = branch_opt or rec["default_branch"]
        new = form.get("new_branch") or old
        if rec["empty"]:
            if update:
                raise self.error(404, f"branch does not exist [name: {old}]")
            files: dict = {}
        else:
            if old not in rec["branches"]:
                raise self.error(404, f"branch does not exist [name: {old}]")
            if new != old and new in rec["branches"]:
                raise self.error(422, f"branch already exists [name: {new}]")
            files = rec["branches"][old]["files"]
        if new == old:
            self._verify_branch_protection(rec, old, ctx.doer, tree_path)
        changes = {}
        removed = None
        if update:
            from_path = posixpath.normpath("/" + (form.get("from_path") or tree_path)).lstrip("/")
            if from_path not in files:
                raise self.error(500, f"object does not exist [id: , rel_path: {from_path}]")
            if form["sha"] != files[from_path]["sha"]:
                raise self.error(422, f"sha does not match [given: {form['sha']}, expected: {files[from_path]['sha']}]")
            if from_path != tree_path:
                if tree_path in files:
                    raise self.error(422, f"repository file already exists [path: {tree_path}]")
                removed = from_path
        else:
            if tree_path in files:
                raise self.error(422, f"repository file already exists [path: {tree_path}]")
        parts = tree_path.split("/")
        for i in range(1, len(parts)):
            sub = "/".join(parts[:i])
            if sub in files and sub != removed:
                raise self.error(422, f"a file exists where you’re trying to create a subdirectory [path: {sub}]")
        if any(p.startswith(tree_path + "/") for p in files):
            raise self.error(422, f"a directory exists where you’re trying to create a file [path: {tree_path}]")
        changes[tree_path] = content
        message = form.get("message") or (f"Update {tree_path}" if update else f"Add {tree_path}")
        author = dict(ctx.doer)
        ident = form.get("author") or form.get("committer") or {}
        if isinstance(ident, dict):
            author["full_name"] = ident.get("name") or author["full_name"] or author["login"]
            author["email"] = ident.get("email") or author["email"]
        commit = self.state.commit_files(
            rec, new, old if not rec["empty"] else None, changes, message, author, removals=[removed] if removed else ()
        )
        entry = rec["branches"][new]["files"][tree_path]
        body = {
            "content": self._contents_json(rec, new, tree_path, entry),
            "commit": self._file_commit_json(rec, commit),
            "verification": self._verification(),
        }
        return Response(200 if update else 201, body)

    def h_create_file(self, ctx, owner, repo, filepath):
        return self._write_file(ctx, owner, repo, filepath, update=False)

    def h_update_file(self, ctx, owner, repo, filepath):
        return self._write_file(ctx, owner, repo, filepath, update=True)

    # --------------------------------------------------------------- branches
    def h_list_branches(self, ctx, owner, repo):
        rec, mode = self._repo_group(ctx, owner, repo)
        names = sorted(rec["branches"])
        page, headers = self._paginate(ctx, names)
        return Response(200, [self._branch_json(rec, n, ctx, mode) for n in page], headers)

    def h_get_branch(self, ctx, owner, repo, branch):
        rec, mode = self._repo_group(ctx, owner, repo)
        if branch not in rec["branches"]:
            raise self.not_found(LookupError(f"branch does not exist [name: {branch}]"))
        return Response(200, self._branch_json(rec, branch, ctx, mode))

    def h_create_branch(self, ctx, owner, repo):
        rec, mode = self._repo_group(ctx, owner, repo)
        self._req_token(ctx)
        self._req_repo_writer(ctx, mode)
        self._not_archived(rec)
        form = self._bind(ctx, "CreateBranchRepoOption")
        if rec["empty"]:
            raise self.error(404, "Git Repository is empty.")
        new = form["new_branch_name"]
        source = None
        if form.get("old_ref_name"):
            ref = form["old_ref_name"]
            for candidate in (ref, ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else None):
                if candidate and candidate in rec["branches"]:
                    source = dict(rec["branches"][candidate])
                    break
            if source is None and ref in rec["commits"]:
                source = {"commit": ref, "files": rec["commits"][ref].get("files", {})}
            if source is None:
                # routers/api/v1/repo/branch.go:228-232 @ v11.0.15: GetCommit fails, answered 500.
                raise self.error(500, f"object does not exist [id: {ref}, rel_path: ]")
        elif form.get("old_branch_name"):
            if form["old_branch_name"] in rec["branches"]:
                source = dict(rec["branches"][form["old_branch_name"]])
        else:
            source = dict(rec["branches"][rec["default_branch"]])
        if source is None:
            raise self.error(404, "The old branch does not exist")
        if new in rec["branches"]:
            raise self.error(409, "The branch already exists.")
        rec["branches"][new] = {"commit": source["commit"], "files": dict(source["files"])}
        return Response(201, self._branch_json(rec, new, ctx, mode))

    # ------------------------------------------------------------ protections
    def _protection_group(self, ctx, owner, repo):
        rec, mode = self._repo_group(ctx, owner, repo)
        self._req_token(ctx)
        self._req_repo_admin(ctx, mode)
        return rec, mode

    def h_list_protections(self, ctx, owner, repo):
        rec, _ = self._protection_group(ctx, owner, repo)
        return Response(200, [self._protection_json(rec, r) for r in rec["protections"]])

    def h_get_protection(self, ctx, owner, repo, name):
        rec, _ = self._protection_group(ctx, owner, repo)
        for rule in rec["protections"]:
            if rule["rule_name"] == name:
                return Response(200, self._protection_json(rec, rule))
        raise self.not_found()

    def h_delete_protection(self, ctx, owner, repo, name):
        rec, _ = self._protection_group(ctx, owner, repo)
        for rule in rec["protections"]:
            if rule["rule_name"] == name:
                rec["protections"].remove(rule)
                return Response(204)
        raise self.not_found()

    def h_create_protection(self, ctx, owner, repo):
        rec, _ = self._protection_group(ctx, owner, repo)
        form = self._bind(ctx, "CreateBranchProtectionOption")
        self._not_archived(rec)
        rule_name = form.get("rule_name") or form.get("branch_name") or ""
        if not rule_name:
            raise self.error(400, "both rule_name and branch_name are empty")
        if any(r["rule_name"] == rule_name for r in rec["protections"]):
            raise self.error(403, "Branch protection already exist")

        rule = {k: bool(form.get(k, False)) for k in _PROTECTION_BOOLS}
        # CanPush / EnableWhitelist / WhitelistDeployKeys as CreateBranchProtection derives them.
        rule["enable_push_whitelist"] = rule["enable_push"] and rule["enable_push_whitelist"]
        rule["push_whitelist_deploy_keys"] = rule["enable_push_whitelist"] and rule["push_whitelist_deploy_keys"]
        ts = now_iso()
        rule.update(
            {
                "id": self.state.new_id("protection"),
                "rule_name": rule_name,
                "push_whitelist_ids": [],
                "merge_whitelist_ids": [],
                "approvals_whitelist_ids": [],
                "status_check_contexts": list(form.get("status_check_contexts") or []),
                "required_approvals": max(int(form.get("required_approvals") or 0), 0),
                "protected_file_patterns": form.get("protected_file_patterns", ""),
                "unprotected_file_patterns": form.get("unprotected_file_patterns", ""),
                "created_at": ts,
                "updated_at": ts,
            }
        )
        self._set_whitelists(rec, rule, form)
        rec["protections"].append(rule)
        return Response(201, self._protection_json(rec, rule))

    _WHITELISTS = (  # (form key, rule key, access a listed user needs to stay on it)
        ("push_whitelist_usernames", "push_whitelist_ids", ACCESS_MODES["write"]),
        ("merge_whitelist_usernames", "merge_whitelist_ids", ACCESS_MODES["write"]),
        ("approvals_whitelist_username", "approvals_whitelist_ids", ACCESS_MODES["read"]),
    )

    def _set_whitelists(self, rec: dict, rule: dict, form: dict) -> None:
        """GetUserIDsByNames (unknown user: 422) for the lists the form gives, then UpdateProtectBranch:
        a list that changed keeps only users with the needed access (others are dropped silently)."""
        wanted = {}
        for key, ids_key, _ in self._WHITELISTS:
            if form.get(key) is not None:
                wanted[ids_key] = [self._lookup_user(name, 422)["id"] for name in form[key]]
        for _, ids_key, min_mode in self._WHITELISTS:
            if ids_key not in wanted or sorted(wanted[ids_key]) == sorted(rule[ids_key]):
                continue
            kept = []
            for uid in wanted[ids_key]:
                if self.access_mode(rec, self.state.users[uid]) >= min_mode and uid not in kept:
                    kept.append(uid)
            rule[ids_key] = kept

    def h_edit_protection(self, ctx, owner, repo, name):
        """repo.EditBranchProtection: only the fields that are set change."""
        rec, _ = self._protection_group(ctx, owner, repo)
        form = self._bind(ctx, "EditBranchProtectionOption")
        self._not_archived(rec)
        stored = next((r for r in rec["protections"] if r["rule_name"] == name), None)
        if stored is None:
            raise self.not_found()
        rule = dict(stored)  # saved only when every field went through (an unknown user is a 422)
        if "enable_push" in form:
            rule["enable_push"] = form["enable_push"]
            if not form["enable_push"]:
                rule["enable_push_whitelist"] = rule["push_whitelist_deploy_keys"] = False
            elif "enable_push_whitelist" in form:
                rule["enable_push_whitelist"] = form["enable_push_whitelist"]
                if not form["enable_push_whitelist"]:
                    rule["push_whitelist_deploy_keys"] = False
                elif "push_whitelist_deploy_keys" in form:
                    rule["push_whitelist_deploy_keys"] = form["push_whitelist_deploy_keys"]
        for key in _PROTECTION_BOOLS:
            if key not in ("enable_push", "enable_push_whitelist", "push_whitelist_deploy_keys") and key in form:
                rule[key] = form[key]
        if "status_check_contexts" in form:
            rule["status_check_contexts"] = list(form["status_check_contexts"])
        if form.get("required_approvals") is not None and form["required_approvals"] >= 0:
            rule["required_approvals"] = form["required_approvals"]
        for key in ("protected_file_patterns", "unprotected_file_patterns"):
            if key in form:
                rule[key] = form[key]
        self._set_whitelists(rec, rule, form)
        rule["updated_at"] = now_iso()
        stored.update(rule)
        return Response(200, self._protection_json(rec, stored))


def reserved_name_error(name: str, repo: bool = False):
    from .state import reserved_name_error as _reserved

    if repo:
        return _reserved(name, RESERVED_REPO_NAMES, RESERVED_REPO_PATTERNS)
    return _reserved(name, RESERVED_USERNAMES, RESERVED_USER_PATTERNS)
