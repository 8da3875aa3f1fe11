"""The branch protection rule on `<user>/.profile` `main`: what the provider wants, and how it compares.

The agent pushes its journal and knowledge to `main` itself, so the rule lets it push paths under
`journal/` and `knowledge/`; everything else on `main` (`formula.toml`, `README.md`) needs the admin,
the only name on the push and merge whitelists, and merges need one approval. A rule read back is
compared on every setting, and on the whitelisted names other than the admin's (Forgejo may hide
the admin's). Why: docs/decisions/profile-repo-protection.md
"""

from __future__ import annotations

from disinto_infra import parsed
from disinto_infra.forgejo.base import as_int
from disinto_infra.parsed import JsonObject

MAIN_BRANCH = "main"
# Paths the agent may push to main by itself (gobwas globs, ';'-separated as Forgejo stores them);
# `**`, as Forgejo's `*` crosses neither `/` nor `.`. Why: docs/decisions/profile-repo-protection.md
AGENT_WRITABLE_PATTERNS = ("journal/**", "knowledge/**")

# Every setting of the rule this provider owns, as Forgejo reports it back (BranchProtection).
SETTINGS: JsonObject = {
    "enable_push": True,
    "enable_push_whitelist": True,  # pushes (the contents API counts as one) only by the admin ...
    "push_whitelist_deploy_keys": False,
    "unprotected_file_patterns": ";".join(AGENT_WRITABLE_PATTERNS),  # ... or of agent-writable paths
    "protected_file_patterns": "",
    "enable_merge_whitelist": True,  # only the admin merges
    "required_approvals": 1,
    "enable_approvals_whitelist": False,
    "block_on_rejected_reviews": True,
    "block_on_official_review_requests": False,
    "block_on_outdated_branch": False,
    "dismiss_stale_approvals": True,
    "ignore_stale_approvals": False,
    "enable_status_check": False,
    "status_check_contexts": [],
    "require_signed_commits": False,
    "apply_to_admins": True,  # binds repository admins (the agent owns its .profile); never a site admin
}
# Whitelists: names shown other than the admin's (docs/decisions/profile-repo-protection.md).
OTHERS = {"push_whitelist_others": "push_whitelist_usernames", "merge_whitelist_others": "merge_whitelist_usernames"}
WANTED: JsonObject = {**SETTINGS, **{key: [] for key in OTHERS}}


def edit_body(admin_user: str) -> JsonObject:
    """`PATCH …/branch_protections/main` (EditBranchProtectionOption): every setting, and the whitelists."""
    return {
        **SETTINGS,
        "push_whitelist_usernames": [admin_user],
        "merge_whitelist_usernames": [admin_user],
        "approvals_whitelist_username": [],
    }


def protection_rule(admin_user: str) -> JsonObject:
    """`POST …/branch_protections` (CreateBranchProtectionOption): the rule on main."""
    return {"rule_name": MAIN_BRANCH, **edit_body(admin_user)}


def observed(rule: JsonObject, admin_user: str) -> JsonObject:
    """The comparable settings of a rule as Forgejo answered it (same keys as WANTED)."""
    seen = {key: rule.get(key) for key in SETTINGS}
    for key, names in OTHERS.items():
        seen[key] = [n for n in parsed.strings(rule.get(names)) if n.lower() != admin_user.lower()]
    return normalized(seen)


def normalized(settings: JsonObject) -> JsonObject:
    """Settings as compared: whole numbers (the engine hands back floats), sorted lists, "" for absent text."""
    out = dict(settings)
    out["required_approvals"] = as_int(settings.get("required_approvals"), -1)
    for key in ("status_check_contexts", *OTHERS):
        out[key] = sorted(parsed.strings(settings.get(key)))
    for key in ("protected_file_patterns", "unprotected_file_patterns"):
        out[key] = settings.get(key) or ""
    return out


def drift(settings: object) -> list[str]:
    """The settings that differ from WANTED (all of them when nothing was recorded, as in an older state)."""
    if not isinstance(settings, dict) or not settings:
        return sorted(WANTED)
    now = normalized({key: settings.get(key) for key in WANTED})
    return [key for key in WANTED if now[key] != WANTED[key]]
