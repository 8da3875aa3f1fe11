"""Naming rules for an agent's resources, in one place.

Every name here ends up in a Docker object, a Forgejo account, an env variable or a Pulumi URN.
URNs are identity: renaming a child here would make Pulumi replace it on every stack, so these
strings are a compatibility contract, not a style choice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_ADMIN_USER = "disinto-admin"
MANAGED_BY = "disinto-infra"

# The agent name becomes part of container, volume and logical names: keep it DNS-ish.
AGENT_NAME_RE = re.compile(r"^[a-z]([a-z0-9]|-[a-z0-9])*$")

# Forgejo's username syntax (BEHAVIOUR.md), minus dots: a dot has no place in an env name.
FORGE_USER_MAX = 40
_FORGE_USER_CHARS_RE = re.compile(r"^[0-9A-Za-z][-_0-9A-Za-z]*$")
_FORGE_USER_RUN_RE = re.compile(r"[-._]{2}")

# Reserved user names, compared case-insensitively: one list per Forgejo release we support, as its
# models/user/user.go `reservedUsernames` has them (v11.0.15: lines 597-638; v12.0.4: lines 588-634;
# v15.0.3: lines 634-675, the same in the v17 development head). Forgejo 12 added "report_abuse"
# beside "devtest"; later releases dropped "devtest".
_RESERVED_IN_ALL = frozenset(
    {
        ".",
        "..",
        "-",
        ".well-known",
        "api",
        "metrics",
        "v2",
        "assets",
        "attachments",
        "avatar",
        "avatars",
        "repo-avatars",
        "captcha",
        "login",
        "org",
        "repo",
        "user",
        "admin",
        "explore",
        "issues",
        "pulls",
        "milestones",
        "notifications",
        "favicon.ico",
        "manifest.json",
        "robots.txt",
        "sitemap.xml",
        "ssh_info",
        "swagger.v1.json",
        "ghost",
        "gitea-actions",
        "forgejo-actions",
    }
)
RESERVED_FORGE_USERS_BY_VERSION = {
    "11": _RESERVED_IN_ALL | {"devtest"},
    "12": _RESERVED_IN_ALL | {"devtest", "report_abuse"},
    "15": _RESERVED_IN_ALL | {"report_abuse"},
}
# Forgejo's reserved suffixes (`reservedUserPatterns`, the same in 11 and 15) all contain a dot,
# which we refuse anyway; kept for completeness.
RESERVED_FORGE_USER_SUFFIXES = (".keys", ".gpg", ".rss", ".atom", ".png")

# `tr 'a-z-' 'A-Z_'`, exactly: only lower-case ASCII letters and '-' change.
_ENV_SUFFIX_TABLE = str.maketrans("abcdefghijklmnopqrstuvwxyz-", "ABCDEFGHIJKLMNOPQRSTUVWXYZ_")


def env_suffix(forge_user: str) -> str:
    """The `<AGENT>` in FORGE_TOKEN_<AGENT>, as the shell scripts compute it."""
    return forge_user.translate(_ENV_SUFFIX_TABLE)


# The bots the factory's own `disinto init` makes and keeps, resetting their passwords and tokens
# (docs/decisions/factory-bot-names.md).
FACTORY_BOTS = (
    "dev-bot",
    "review-bot",
    "planner-bot",
    "gardener-bot",
    "vault-bot",
    "supervisor-bot",
    "predictor-bot",
    "architect-bot",
)


def factory_bot_clash(forge_user: str) -> str | None:
    """What happens to an agent whose Forgejo user is one of the factory's own bots; None if it is not."""
    if forge_user.lower() not in FACTORY_BOTS:
        return None
    return (
        f'"{forge_user}" is one of the bots the factory\'s own `disinto init` manages ({", ".join(FACTORY_BOTS)}): '
        f"it resets that bot's password and deletes all its tokens whenever the factory's .env lacks them, "
        f"which cuts this agent off"
    )


def default_forge_user(agent: str) -> str:
    """What the old compose generator assumed when `forge_user` was missing."""
    return f"{agent}-bot"


def container_name(agent: str) -> str:
    return f"disinto-agents-{agent}"


def repos_volume(agent: str) -> str:
    return f"project-repos-{agent}"


def data_volume(agent: str) -> str:
    return f"agents-{agent}-data"


def nomad_job(agent: str) -> str:
    """The agent's Nomad job id (and name); its Vault role is bound to it."""
    return f"disinto-agent-{agent}"


def vault_policy(agent: str) -> str:
    """The agent's Vault policy, and its JWT role: `bot-<name>`, as the factory names its own."""
    return f"bot-{agent}"


def bot_email(forge_user: str, project_name: str) -> str:
    return f"{forge_user}@{project_name}.local"


@dataclass(frozen=True)
class ChildNames:
    """Logical names of an Agent's children; they are part of every URN."""

    agent: str

    @property
    def user(self) -> str:
        return f"{self.agent}-user"

    @property
    def token(self) -> str:
        return f"{self.agent}-token"

    @property
    def collaborator(self) -> str:
        return f"{self.agent}-collaborator"

    @property
    def repos(self) -> str:
        return f"{self.agent}-repos"

    @property
    def data(self) -> str:
        return f"{self.agent}-data"

    @property
    def container(self) -> str:
        return f"{self.agent}-container"

    # The children added by the .profile, .env export and migration features.
    @property
    def profile(self) -> str:
        return f"{self.agent}-profile"

    @property
    def env(self) -> str:
        return f"{self.agent}-env"

    @property
    def retire(self) -> str:
        return f"{self.agent}-retire"

    @property
    def copy_data(self) -> str:
        return f"{self.agent}-copy-data"

    @property
    def started(self) -> str:
        return f"{self.agent}-started"

    @property
    def drain(self) -> str:
        return f"{self.agent}-drain"

    # The nomad runtime's children (its volumes reuse `repos` and `data`).
    @property
    def kv_secret(self) -> str:
        return f"{self.agent}-kv"

    @property
    def vault_policy(self) -> str:
        return f"{self.agent}-policy"

    @property
    def vault_role(self) -> str:
        return f"{self.agent}-role"

    @property
    def job(self) -> str:
        return f"{self.agent}-job"


def child_names(agent: str) -> ChildNames:
    return ChildNames(agent)


# How long an agent name may be. Docker documents no limit for container or volume names, but on
# a user-defined network (disinto:network) its embedded DNS resolves a container by its name, and
# a DNS label holds at most 63 bytes (RFC 1035 2.3.4): containers with longer names cannot reach
# each other by name (moby/moby#37971) and their reverse lookups time out (moby/moby#46928).
# The longest name we derive, `disinto-agents-<name>`, sets the limit; the volumes
# (`project-repos-<name>`, `agents-<name>-data`) are folders under /var/lib/docker/volumes
# (255 bytes a name) and stay well inside it.
DNS_LABEL_MAX = 63
AGENT_NAME_MAX = DNS_LABEL_MAX - max(len(container_name("")), len(repos_volume("")), len(data_volume("")))
# An agent without `forge_user` is `<name>-bot` on Forgejo, whose usernames hold 40 characters.
DEFAULT_FORGE_USER_NAME_MAX = FORGE_USER_MAX - len(default_forge_user(""))


def agent_name_problem(name: str) -> str | None:
    if not AGENT_NAME_RE.match(name):
        return (
            "agent name must be lower-case letters, digits and single dashes, "
            "starting with a letter and not ending with a dash"
        )
    if len(name) > AGENT_NAME_MAX:
        return (
            f"agent name must be at most {AGENT_NAME_MAX} characters, not {len(name)}: its container name "
            f"{container_name(name)} would be {len(container_name(name))} characters, over the {DNS_LABEL_MAX} "
            "of a DNS label (Docker's network resolves containers by name)"
        )
    return None


def default_forge_user_problem(agent: str) -> str | None:
    """Why the default forge_user of `agent` (`<name>-bot`) is too long for Forgejo, or None."""
    user = default_forge_user(agent)
    if len(user) <= FORGE_USER_MAX:
        return None
    return (
        f'the default forge_user "{user}" is {len(user)} characters, over Forgejo\'s {FORGE_USER_MAX}-character '
        f"username limit: set forge_user, or use an agent name of at most {DEFAULT_FORGE_USER_NAME_MAX} characters"
    )


def forge_user_problem(forge_user: str, admin_user: str = DEFAULT_ADMIN_USER) -> str | None:
    """Why Forgejo (or our env naming) would refuse this username, or None."""
    if not forge_user:
        return "must not be empty"
    if len(forge_user) > FORGE_USER_MAX:
        return f"must be at most {FORGE_USER_MAX} characters, not {len(forge_user)}"
    if "." in forge_user:
        return "must not contain '.' (it cannot appear in an env variable name)"
    if not _FORGE_USER_CHARS_RE.match(forge_user):
        return "must be letters, digits, '-' and '_', starting with a letter or digit"
    if _FORGE_USER_RUN_RE.search(forge_user):
        return "must not contain two of '-', '_' in a row"
    if forge_user[-1] in "-_":
        return "must not end with '-' or '_'"
    lowered = forge_user.lower()
    if lowered.endswith(RESERVED_FORGE_USER_SUFFIXES):
        return f'"{forge_user}" is reserved by Forgejo'
    versions = [v for v, names in RESERVED_FORGE_USERS_BY_VERSION.items() if lowered in names]
    if versions:
        listed = ", ".join(versions[:-1]) + " and " + versions[-1] if len(versions) > 1 else versions[0]
        return f'"{forge_user}" is reserved by Forgejo {listed}'
    if lowered == admin_user.lower():
        return f'must not be the admin user "{admin_user}"'
    return None
