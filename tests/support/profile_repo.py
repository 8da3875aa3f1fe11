"""An agent's `<user>/.profile` repository for the engine scenarios against the Forgejo double:
its resources as the real program registers them (`profile`, `agent`), and what the double holds
of it (`whitelists`, `blob_sha` of a file as git names it)."""

from __future__ import annotations

import hashlib

from tests.support.engine import Res
from tests.support.identity import identity
from tests.support.identity import profile as recorded_profile

FORMULA = 'name = "dev"\n[steps]\nfirst = "read the issue"\n'
PROFILE = "dev-qwen/.profile"


def profile(agent="dev-qwen", formula=FORMULA, username=None, **extra) -> Res:
    """`<agent>-profile` as the real program registers it (options and provider included)."""
    return recorded_profile(agent, formula, username, **extra)


def agent(agent="dev-qwen", formula=FORMULA) -> list[Res]:
    return [*identity(agent), profile(agent, formula)]


def whitelists(forge, full_name=PROFILE) -> dict:
    """The users really on the rule's whitelists (the API answer hides a non-collaborator admin)."""
    with forge.state.lock:
        [rule] = forge._find_repo(full_name)["protections"]
        login = {uid: u["login"] for uid, u in forge.state.users.items()}
        return {
            "push": [login[i] for i in rule["push_whitelist_ids"]],
            "merge": [login[i] for i in rule["merge_whitelist_ids"]],
        }


def blob_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
