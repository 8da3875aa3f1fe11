"""The bot policies in Vault that let an agent read the Forgejo admin token (a part of `check`'s Vault area).

The factory's own bot policies grant `read` on the path where it stores its Forgejo admin token, so
every job logged in with one can read that token; ours grant no such path
(runtimes/nomad/vault_policy.py). Each `bot-*` policy the token may read is fetched and judged with
Vault's own matching (vault_acl.py): one warning per policy that grants it, naming the rule to
remove. Warnings, not problems: the stack works, it is only not least privilege. A 403 on the list
or a policy is "not checked". Why: docs/decisions/check-bot-policies.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from disinto_infra import naming
from disinto_infra.commands.check.reach import Ask
from disinto_infra.commands.check.vault_acl import READ, PolicyParseError, governing_rule, parse_policy
from disinto_infra.http_get import Reply
from disinto_infra.parsed import JsonObject
from disinto_infra.runtimes.nomad.vault_policy import shared_forge

LIST_PATH = "/v1/sys/policies/acl"
LIST_PARAMS = {"list": "true"}
BOT_PREFIX = naming.vault_policy("")  # "bot-"
OURS = "(disinto-infra)"  # in the title line vault_policy.render writes


@dataclass(frozen=True)
class BotPolicies:
    found: str  # "2 bot policies read" | "not checked: ..."
    warnings: tuple[str, ...] = ()


def _data(body: object) -> JsonObject:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def bot_names(listing: Reply) -> list[str]:
    keys = _data(listing.body).get("keys") if listing.status == 200 else None
    listed = keys if isinstance(keys, list) else []
    return sorted(str(k) for k in listed if str(k).startswith(BOT_PREFIX))


def ask_each(ask: Ask, headers: Mapping[str, str], names: list[str]) -> dict[str, Future[Reply]]:
    return {name: ask(f"{LIST_PATH}/{quote(name, safe='')}", headers) for name in names}


def _warning(name: str, text: str, kv_mount: str, factory_root: str) -> str | None:
    path = shared_forge(kv_mount).data
    rule = governing_rule(parse_policy(text), path)
    if rule is None or not rule.grants(READ):
        return None
    if rule.path == path:
        fix = f'remove its path "{rule.written}" block'
    else:
        fix = f'narrow its path "{rule.written}" rule so that it no longer covers {path}'
    head = (
        f"Vault policy {name} lets every job logged in with it read {path}, where the factory keeps "
        f"FORGE_ADMIN_TOKEN (tools/vault-import.sh): {fix}"
    )
    if OURS in text.split("\n", 1)[0]:
        return f"{head}; `pulumi up` writes this stack's {name} without it"
    source = Path(factory_root or "<factory>") / "vault" / "policies" / f"{name}.hcl"
    return (
        f"{head}, in {source} too, or the factory's tools/vault-apply-policies.sh writes it back "
        f"(vault policy write {name} <fixed file>)"
    )


def judge(listing: Reply, policies: Mapping[str, Reply], kv_mount: str, factory_root: str) -> BotPolicies:
    if listing.status == 403:
        return BotPolicies("not checked: the token may not list sys/policies/acl")
    if listing.status != 200:
        return BotPolicies(f"not checked: LIST sys/policies/acl: {listing.why()}")
    warnings, unread = [], []
    for name, reply in sorted(policies.items()):
        text = _data(reply.body).get("policy") if reply.status == 200 else None
        if not isinstance(text, str):
            unread.append(name)
            continue
        try:
            warning = _warning(name, text, kv_mount, factory_root)
        except PolicyParseError:
            unread.append(name)
            continue
        if warning:
            warnings.append(warning)
    read = len(policies) - len(unread)
    found = f"{read} bot {'policy' if read == 1 else 'policies'} read"
    if unread:
        found += f", not {', '.join(unread)}"
    if warnings:
        found += f", {len(warnings)} reading {shared_forge(kv_mount).data}"
    return BotPolicies(found, tuple(warnings))
