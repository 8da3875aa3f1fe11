"""Print the output docs/check.md shows ("Before and after `pulumi up`"): `check` run against the doubles.

    python -m tests.support.check_demo

A Forgejo double on 127.0.0.1 and a fake llama-server (4 slots) on this machine's own address, shown
as 10.10.10.1 (addresses.py: agents' containers cannot reach the loopback); a project folder in a temp dir
holding a copy of this package, a stack file, a TOML, a `.env` and a `pulumi stack export` file.
"Before": dev-qwen runs, dev-qwen2 was just hired and the old .env hands it dev-qwen's token;
dev-qwen's token is 95 days old (limit 90).
"After" is set up by hand in the doubles as `pulumi up` would leave it (no engine runs here):
dev-qwen2's user and token exist, dev-qwen's token was replaced, the .env holds both.
"Nomad": the same agents on a `runtime: nomad` stack, against the Nomad and Vault doubles. The
factory's forgejo job registered its service in namespace `default`, the agents' namespace is
`agents`; of pool `gpu`'s two nodes one is draining (ineligible); the Vault token may not read
`sys/auth`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import requests

from disinto_infra import envfile, naming
from disinto_infra.forgejo import token_age
from tests.support import docker_cli_double
from tests.support.addresses import host_address
from tests.support.budgets import ANSWER_BUDGET
from tests.support.factory import give_formulas
from tests.support.forgejo_double import ForgejoDouble
from tests.support.llama_double import LlamaDouble
from tests.support.nomad_double import NomadDouble, node, registration
from tests.support.vault_double import DEFAULT_POLICY, VaultDouble

ROOT = Path(__file__).resolve().parents[2]
SHOWN_ADDRESS = "10.10.10.1"  # the model server's address in the README's examples
TOKEN_URN = "urn:pulumi:dev::disinto::disinto:index:Agent$pulumi-python:dynamic/forgejo:Token::{}-token"


def state(path: Path, ages: dict[str, float]) -> None:
    resources = [
        {
            "urn": TOKEN_URN.format(name),
            "type": "pulumi-python:dynamic/forgejo:Token",
            "outputs": {"created_at": token_age.iso(token_age.now() - timedelta(days=days))},
        }
        for name, days in ages.items()
    ]
    path.write_text(json.dumps({"version": 3, "deployment": {"resources": resources}}))


def check(folder: Path, *args: str, env: dict[str, str] | None = None) -> str:
    # HOME holds the container's bind sources (~/.claude.json, ~/.ssh): an operator's machine has them.
    environ = {**os.environ, "HOME": str(folder / "home"), "DISINTO_ADMIN_PASSWORD": "admin-pass-123", **(env or {})}
    environ.pop("DOCKER_HOST", None)
    # The docker CLI double, when the demo installed one (docker_cli_double.py).
    environ["PATH"] = f"{folder / 'bin'}{os.pathsep}{environ.get('PATH', '')}"
    # A budget no load exhausts: the doubles answer; docs/check.md shows the flag it ran with.
    command = ["check", *args, "--state", "state.json", "--timeout", str(ANSWER_BUDGET)]
    done = subprocess.run(
        [sys.executable, "-m", "disinto_infra", *command],
        cwd=folder,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,  # a hang of ours, not a budget
    )
    return f"$ python -m disinto_infra {' '.join(command)}; echo exit $?\n{done.stdout}exit {done.returncode}\n"


# The token's policy is examples/vault/pulumi-token.hcl; the factory wrote its bot-dev-qwen policy
# (vault/policies/bot-dev-qwen.hcl, Disinto/disinto 2308c4c), which grants the shared forge path.
VAULT_POLICIES = {
    "default": DEFAULT_POLICY,
    "disinto-admin": (ROOT / "examples" / "vault" / "pulumi-token.hcl").read_text(encoding="utf-8"),
    "bot-dev-qwen": 'path "kv/data/disinto/bots/dev-qwen" {\n  capabilities = ["read"]\n}\n\n'
    'path "kv/data/disinto/shared/forge" {\n  capabilities = ["read"]\n}\n',
}


def nomad_run(folder: Path, forge_url: str) -> str:
    """`check --stack nomad`: the Nomad and Vault areas, against their doubles."""
    tokens = {"NOMAD_TOKEN": "demo-nomad-acl-token", "VAULT_TOKEN": "hvs.demo-vault-token"}
    pool = [node("box1", "gpu"), node("box2", "gpu", eligibility="ineligible")]
    services = {("default", "forgejo"): [registration("forgejo", "default", "10.0.0.5", 3000)]}
    with (
        NomadDouble(
            acl_token=tokens["NOMAD_TOKEN"], namespaces=("default", "agents"), pools={"gpu": pool}, services=services
        ) as nomad,
        VaultDouble(
            token=tokens["VAULT_TOKEN"],
            policies=("disinto-admin",),
            ttl=2764800,
            forbidden=frozenset({"/v1/sys/auth"}),
            acl=VAULT_POLICIES,
        ) as vault,
    ):
        (folder / "Pulumi.nomad.yaml").write_text(
            f"config:\n  disinto:forgeUrl: {forge_url}\n  disinto:envFile: .env\n  disinto:runtime: nomad\n"
            '  disinto:tokenMaxAgeDays: "90"\n  disinto:nomadNamespace: agents\n  disinto:nomadNodePool: gpu\n'
            f"  nomad:address: {nomad.url}\n  vault:address: {vault.url}\n"
        )
        shown = check(folder, "--stack", "nomad", env=tokens)
    assert not any(token in shown for token in tokens.values())
    return shown


def shown(text: str, tmp: str) -> str:
    """As the README shows it: the temp folder and this machine's address replaced by examples."""
    return text.replace(tmp, "/srv/disinto-infra").replace(host_address(), SHOWN_ADDRESS)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, ForgejoDouble() as forge, LlamaDouble(slots=4) as llama:
        folder = Path(tmp)
        shutil.copytree(ROOT / "disinto_infra", folder / "disinto_infra", ignore=shutil.ignore_patterns("__pycache__"))
        give_formulas(folder)
        (folder / "projects").mkdir()
        agents = "".join(
            f'\n[agents.{n}]\nbase_url = "{llama.url}"\nmodel = "unsloth/Qwen3.5-35B-A3B"\nforge_user = "{n}"\n'
            for n in ("dev-qwen", "dev-qwen2")
        )
        (folder / "projects" / "disinto.toml").write_text(f'name = "disinto"\nrepo = "johba/disinto"\n{agents}')
        for bind_source in ("home/.ssh", "home/claude-shared", "state"):
            (folder / bind_source).mkdir(parents=True)
        (folder / "home" / ".claude.json").write_text("{}")
        (folder / "Pulumi.dev.yaml").write_text(
            f'config:\n  disinto:forgeUrl: {forge.url}\n  disinto:envFile: .env\n  disinto:tokenMaxAgeDays: "90"\n'
            "  disinto:claudeSharedDir: ~/claude-shared\n"
        )
        forge.add_user("disinto-admin", password="admin-pass-123", is_admin=True)
        forge.add_user("johba")
        forge.add_repo("johba", "disinto")
        forge.add_user("dev-qwen", password="dev-qwen-pass-1")
        old = forge.add_token("dev-qwen", name="disinto-infra-r0-5ef5ef03")
        # The old compose generator's .env: the second llama agent got the first one's token.
        envfile.set_values(
            str(folder / ".env"),
            {"FORGE_TOKEN_DEV_QWEN": old, "FORGE_PASS_DEV_QWEN": "dev-qwen-pass-1", "FORGE_TOKEN_DEV_QWEN2": old},
        )
        state(folder / "state.json", {"dev-qwen": 95})
        # dev-qwen's container runs its loop; dev-qwen2, just hired, has none yet.
        docker_cli_double.install(folder, {naming.container_name("dev-qwen"): {"inspect": docker_cli_double.running()}})
        print("## before\n" + shown(check(folder), tmp))

        forge.add_user("dev-qwen2", password="dev-qwen2-pass-1")
        # What the export writes: each agent's own token, as FORGE_TOKEN and as FORGE_PASS (the password
        # is not handed out: docs/forgejo-resources.md).
        tokens = {n: forge.add_token(n, name="disinto-infra-r0-5ef5ef03-d20261130") for n in ("dev-qwen", "dev-qwen2")}
        values = {
            f"FORGE_{kind}_{naming.env_suffix(n)}": token for n, token in tokens.items() for kind in ("TOKEN", "PASS")
        }
        envfile.set_values(str(folder / ".env"), values)
        requests.delete(
            f"{forge.api_url}/users/dev-qwen/tokens/disinto-infra-r0-5ef5ef03",
            auth=("dev-qwen", "dev-qwen-pass-1"),
            timeout=5,
        )  # the old one, revoked last
        state(folder / "state.json", {"dev-qwen": 0, "dev-qwen2": 0})
        docker_cli_double.install(
            folder,
            {naming.container_name(n): {"inspect": docker_cli_double.running()} for n in ("dev-qwen", "dev-qwen2")},
        )
        print("## after\n" + shown(check(folder), tmp))
        print("## nomad\n" + shown(nomad_run(folder, forge.url), tmp))


if __name__ == "__main__":
    main()
