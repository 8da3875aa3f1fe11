"""The mutation check's list (tests/mutations/run.py runs it): realistic mistakes, each one exact
snippet of one file replaced, with the tests that should notice it. `tests/test_mutation_list.py`
holds every snippet to occurring exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from os.path import commonpath
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCEN = "tests/forgejo/test_engine_scenarios.py"
MATRIX = "tests/reliability/test_fault_matrix.py"
# The Agent's Forgejo wiring lives in identity.py since the identity/runtime split (issue 11).
IDENTITY, USER, TOKEN, COLLAB = (
    f"disinto_infra/{m}.py" for m in ("forgejo/identity", "forgejo/user", "forgejo/token", "forgejo/collaborator")
)
DOUBLE_API = "tests/support/forgejo_double/api.py"
NOMAD, NOMAD_JOB, NOMAD_TESTS = (
    "disinto_infra/runtimes/nomad/resources.py",
    "disinto_infra/runtimes/nomad/job.py",
    "tests/runtimes/nomad/test_resources.py",
)


@dataclass(frozen=True)
class Mutation:
    id: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]  # pytest arguments: node ids, files, `-k` expressions
    issue: bool = False  # named in issue 12: must be killed

    def why(self) -> str:
        """The file and what changes in it: the differing middle of the snippet, spaces squeezed."""
        head = len(commonpath([self.old, self.new]))
        tail = len(commonpath([self.old[head:][::-1], self.new[head:][::-1]]))
        while head and (self.old[head - 1].isalnum() or self.old[head - 1] == "_"):  # whole words
            head -= 1
        while tail and (self.old[-tail].isalnum() or self.old[-tail] == "_"):
            tail -= 1

        def part(text: str) -> str:
            middle = " ".join(text[head : len(text) - tail].split())
            return f"`{middle[:70]}`" if middle else "nothing"

        return f"{self.file}: {part(self.old)} → {part(self.new)}"


def k(expr: str, where: str = SCEN) -> tuple[str, ...]:
    return (where, "-k", expr)


MUTATIONS = [
    # ---- named in issue 12
    Mutation(
        "token-diff-dbr",
        TOKEN,
        "replaces=replaces, delete_before_replace=False)",
        "replaces=replaces, delete_before_replace=True)",
        k("token_rotation"),
        issue=True,
    ),
    Mutation(
        "token-diff-dbr-unit",
        TOKEN,
        "replaces=replaces, delete_before_replace=False)",
        "replaces=replaces, delete_before_replace=True)",
        ("tests/forgejo/test_identity_diffs.py",),
    ),
    Mutation(
        "token-no-user-id",
        IDENTITY,
        "            rotation=spec.rotate_token,\n            user_id=user.user_id,\n",
        "            rotation=spec.rotate_token,\n",
        k("fresh_agent"),
        issue=True,
    ),
    Mutation(
        "collaborator-no-user-id",
        IDENTITY,
        'permission="write", user_id=user.user_id',
        'permission="write"',
        k("fresh_agent"),
        issue=True,
    ),
    Mutation(
        "user-not-retired",
        USER,
        "            retry_transient(lambda: _retire(client, conn, username))",
        "            return None",
        k("destroy_retires or replace_flag_on_the_user"),
        issue=True,
    ),
    Mutation(
        "user-update-drops-email", USER, 'fields["email"] = news["email"]', "pass", k("email_and_full_name"), issue=True
    ),
    Mutation(
        "user-update-drops-full-name",
        USER,
        'fields["full_name"] = news.get("full_name", "")',
        "pass",
        k("email_and_full_name"),
        issue=True,
    ),
    Mutation(
        "user-update-misspelt-email-key",
        USER,
        'fields["email"] = news["email"]',
        'fields["e_mail"] = news["email"]',
        k("email_and_full_name"),
        issue=True,
    ),
    Mutation(
        "collaborator-check-accepts-anything",
        COLLAB,
        'return CheckResult({**news, "permission": permission}, failures)',
        'return CheckResult({**news, "permission": permission}, [])',
        k("collaborator_check"),
        issue=True,
    ),
    Mutation(
        "collaborator-check-any-permission",
        COLLAB,
        "permission not in PERMISSIONS:",
        "permission is None:",
        k("collaborator_check"),
        issue=True,
    ),
    Mutation(
        "collaborator-check-loose-repo",
        COLLAB,
        'repo.count("/") != 1',
        'repo.count("/") < 1',
        k("collaborator_check"),
        issue=True,
    ),
    Mutation(
        "collaborator-read-keeps-permission",
        COLLAB,
        '"permission": settled(state.permission, effective)',
        '"permission": state.permission',
        k("collaborator_refresh"),
        issue=True,
    ),
    Mutation(
        "user-create-misspelt-key",
        USER,
        '"must_change_password": False,\n        # No `visibility`',
        '"must_change_pasword": False,\n        # No `visibility`',
        k("fresh_agent"),
        issue=True,
    ),
    Mutation(
        "double-token-without-last-eight",
        DOUBLE_API,
        '            "token_last_eight": tok["token_last_eight"],\n            "scopes"',
        '            "scopes"',
        k("fresh_agent"),
        issue=True,
    ),
    # ---- classic mistakes in the providers
    Mutation(
        "token-rotation-ignored",
        TOKEN,
        'if int_differs(olds.get("rotation"), news.get("rotation")):',
        "if False:",
        k("token_rotation"),
    ),
    Mutation(
        "token-scopes-compared-raw",
        TOKEN,
        'scopes.normalize(olds.get("scopes") or []) != new_scopes',
        'list(olds.get("scopes") or []) != list(news.get("scopes"))',
        k("scope_change"),
    ),
    Mutation(
        "token-update-wipes-outputs",
        TOKEN,
        'return UpdateResult({**old.outputs(), "password": news.get("password", ""), "created_at": created_at})',
        'return UpdateResult({"password": news.get("password", ""), "created_at": created_at})',
        k("password_rotation_keeps"),
    ),
    Mutation(
        "token-update-keeps-old-password",
        TOKEN,
        '{**old.outputs(), "password": news.get("password", ""), "created_at": created_at}',
        '{**old.outputs(), "created_at": created_at}',
        k("password_rotation_keeps"),
    ),
    Mutation(
        "token-read-never-gone",
        TOKEN,
        "if not state.token or not _authenticates(client, state):",
        "if not state.token:",
        k("refresh_after_token"),
    ),
    Mutation(
        "token-delete-no-newest-password",
        TOKEN,
        "if newest and newest != state.password:",
        "if False:",
        k("admin_token_only"),
    ),
    Mutation(
        "token-lost-create-not-recovered",
        TOKEN,
        "if exc.status != 400 or NAME_TAKEN not in exc.message:",
        "if True:",
        k("delete_by_name_after_a_lost_create", MATRIX),
    ),
    Mutation(
        "token-create-misspelt-scopes-key",
        TOKEN,
        'body = {"name": name, "scopes": wanted}',
        'body = {"name": name, "scope": wanted}',
        k("fresh_agent"),
    ),
    Mutation(
        "token-secret-outputs",
        TOKEN,
        'SECRET_OUTPUTS = ("token", "password")',
        'SECRET_OUTPUTS = ("password",)',
        k("fresh_agent"),
    ),
    Mutation(
        "user-adoption-keeps-must-change",
        USER,
        '        fields["must_change_password"] = False\n',
        "        pass\n",
        k("adopts_existing"),
    ),
    Mutation(
        "user-adopts-site-admin",
        USER,
        'if existing.get("is_admin") or conn.is_admin_user(name):',
        "if conn.is_admin_user(name):",
        k("refuses_to_adopt"),
    ),
    Mutation(
        "user-adoption-switch-ignored",
        USER,
        "if not conn.adopt_existing_users and not returning:",
        "if False:",
        k("adoption_can_be_turned_off"),
    ),
    Mutation(
        "user-broken-password-not-reset",
        USER,
        'reset = olds.get("password_ok") is False',
        "reset = False",
        k("broken_password"),
    ),
    Mutation(
        "user-read-trusts-password",
        USER,
        "verdict = password_verdict(client, old.username, old.password) if old.password else WRONG",
        "verdict = OK if old.password else WRONG",
        k("broken_password"),
    ),
    Mutation(
        "user-rotation-ignored",
        USER,
        'rotate = as_int(news.get("password_rotation")) != old.password_rotation',
        "rotate = False",
        k("password_rotation_keeps"),
    ),
    Mutation(
        "user-create-not-retried",
        USER,
        "state = retry_transient(lambda: _create(client, conn, want, tried))",
        "state = _create(client, conn, want, tried)",
        k("faults_on_create_converge and admin"),
    ),
    Mutation(
        "user-replaced-create-first",
        USER,
        "    DELETE_BEFORE_REPLACE = True\n",
        "    DELETE_BEFORE_REPLACE = False\n",
        k("replace_flag_on_the_user or username_change"),
    ),
    Mutation(
        "collaborator-diff-ignores-permission",
        COLLAB,
        'changes = bool(replaces) or differs(olds.get("permission"), news.get("permission", "write"))',
        "changes = bool(replaces)",
        k("collaborator_refresh"),
    ),
    Mutation("collaborator-delete-of-gone-fails", COLLAB, "ok=(204, 404, 422))", "ok=(204,))", k("already_deleted")),
    Mutation(
        "collaborator-replaced-create-first",
        COLLAB,
        "    DELETE_BEFORE_REPLACE = True\n",
        "    DELETE_BEFORE_REPLACE = False\n",
        k("replace_flag_on_the_collaborator"),
    ),
    Mutation(
        "collaborator-grant-misspelt-key",
        COLLAB,
        'json={"permission": state.permission}',
        'json={"permision": state.permission}',
        k("fresh_agent"),
    ),
    Mutation(
        "user-recreated-never-seen",
        "disinto_infra/forgejo/base.py",
        'return new is not None and not is_unknown(new) and as_int(olds.get("user_id")) != as_int(new)',
        "return False",
        ("tests/forgejo/test_identity_diffs.py",),
    ),
    # ---- classic mistakes in the wiring
    Mutation(
        "agent-scopes-ignored",
        IDENTITY,
        "return list(spec.token_scopes or settings.token_scopes or token_scopes.for_roles(spec.roles))",
        "return list(token_scopes.for_roles(spec.roles))",
        k("scope_change"),
    ),
    Mutation("agent-rotate-token-ignored", IDENTITY, "rotation=spec.rotate_token,", "rotation=0,", k("token_rotation")),
    Mutation(
        "agent-rotate-password-ignored",
        IDENTITY,
        "password_rotation=spec.rotate_password,",
        "password_rotation=0,",
        k("password_rotation_keeps"),
    ),
    # ---- the nomad runtime (issue 11) and the docker stack's recorded plan
    Mutation(
        "nomad-kv-keeps-old-versions",
        NOMAD,
        "delete_all_versions=True,",
        "delete_all_versions=False,",
        k("kv_secret_is_secret", NOMAD_TESTS),
    ),
    Mutation(
        "nomad-job-not-purged",
        NOMAD,
        "purge_on_destroy=True,",
        "purge_on_destroy=False,",
        k("removal_purges", NOMAD_TESTS),
    ),
    Mutation(
        "nomad-volume-not-kept",
        NOMAD,
        "            retain_on_delete=True,\n            replace_on_changes=VOLUME_REPLACED_ON,",
        "            replace_on_changes=VOLUME_REPLACED_ON,",
        k("removal_purges", NOMAD_TESTS),
    ),
    # ---- issue 17 items 4-6: what Nomad refuses, refused at plan; where volumes go
    Mutation(
        "nomad-volume-moved-by-update",
        NOMAD,
        "            replace_on_changes=VOLUME_REPLACED_ON,\n",
        "",
        k("new_pool_or_namespace", NOMAD_TESTS),
    ),
    # Issue 29: a constraint change must never reach a volume in use.
    Mutation(
        "nomad-volume-updated-on-new-constraint",
        NOMAD,
        '            ignore_changes=["constraints"],\n',
        "",
        k("volume_in_use", NOMAD_TESTS),
    ),
    Mutation(
        "nomad-volume-any-pool",
        NOMAD,
        "node_pool=node_pool(settings),",
        "node_pool=settings.nomad_node_pool,",
        k("places_volumes_and_job_together", NOMAD_TESTS),
    ),
    Mutation(
        "nomad-volume-no-driver",
        NOMAD_JOB,
        "        DOCKER_DRIVER,\n        VAULT_CLIENT,\n    ]",
        "        VAULT_CLIENT,\n    ]",
        k("where_the_job_can_run", NOMAD_TESTS),
    ),
    Mutation(
        "constraint-is-set-value",
        "disinto_infra/config/nomad_constraints.py",
        'NO_VALUE = frozenset({"is_set", "is_not_set"})',
        'NO_VALUE = frozenset({"is_not_set"})',
        ("tests/config/test_nomad_constraints.py",),
    ),
    Mutation(
        "plan-runs-share-a-stack",
        "disinto_infra/program/sdk_internals.py",
        "    _settings.ROOT.set(None)\n",
        "",
        ("tests/program/test_sdk_internals.py",),
    ),
    Mutation(
        "constraint-any-byte",
        "disinto_infra/config/nomad_constraints.py",
        'if text[i + 1 : i + 2] == "C":',
        'if text[i + 1 : i + 2] == "Q":',
        ("tests/config/test_nomad_constraints.py",),
    ),
    Mutation(
        "vault-path-wildcard",
        "disinto_infra/config/stack_settings.py",
        'VAULT_POLICY_SPECIAL = frozenset("+*{}")',
        'VAULT_POLICY_SPECIAL = frozenset("{}")',
        ("tests/reliability/test_bad_nomad_settings.py",),
    ),
    Mutation(
        "kept-volume-unnamed",
        "disinto_infra/commands/check/host_volumes.py",
        'why = "not this stack\'s"',
        "return None",
        ("tests/commands/check/test_host_volumes.py",),
    ),
    Mutation(
        "nomad-role-any-namespace",
        NOMAD,
        '{"nomad_namespace": settings.nomad_namespace, "nomad_job_id"',
        '{"nomad_job_id"',
        k("role_is_bound", NOMAD_TESTS),
    ),
    Mutation(
        "nomad-secret-no-restart",
        NOMAD_JOB,
        'DestPath=SECRETS_FILE, EmbeddedTmpl=body, Envvars=True, ChangeMode="restart")',
        'DestPath=SECRETS_FILE, EmbeddedTmpl=body, Envvars=True, ChangeMode="noop")',
        k("templates_render", NOMAD_TESTS),
    ),
    Mutation(
        "nomad-volumes-on-any-node",
        NOMAD,
        "data = _volume(args, data_spec, node_id=repos.node_id)",
        "data = _volume(args, data_spec)",
        k("one_node", NOMAD_TESTS),
    ),
    Mutation(
        "docker-healthcheck-retries",
        "disinto_infra/runtimes/docker.py",
        "HEALTH_RETRIES = 3",
        "HEALTH_RETRIES = 4",
        ("tests/program/test_recorded_plan.py",),
    ),
    # Issue 16 items 3, 4, 5, 9: the compose agent goes last, the network and the image are looked up.
    Mutation(
        "docker-retire-first",
        "disinto_infra/runtimes/docker.py",
        "pulumi.ResourceOptions(parent=args.parent, depends_on=needs)",
        "pulumi.ResourceOptions(parent=args.parent)",
        k("failing_token", "tests/runtimes/test_docker.py"),
    ),
    Mutation(
        "docker-network-by-name",
        "disinto_infra/runtimes/docker.py",
        "ContainerNetworksAdvancedArgs(name=network_id)",
        "ContainerNetworksAdvancedArgs(name=args.settings.network)",
        k("attach_to_the_network", "tests/runtimes/test_docker.py"),
    ),
    Mutation(
        "docker-image-by-tag",
        "disinto_infra/runtimes/docker.py",
        "name=pull_name(settings.agent_image)",
        "name=settings.agent_image",
        k("pulled_by_the_digest", "tests/runtimes/test_docker.py"),
    ),
    Mutation(
        "copy-data-reruns-create",
        "disinto_infra/runtimes/migration.py",
        "        update=NO_OP_UPDATE,\n        environment=docker_cli_environment(docker_host),\n        # Not the image",
        "        environment=docker_cli_environment(docker_host),\n        # Not the image",
        k("update_that_does_nothing", "tests/runtimes/test_migration.py"),
    ),
    # ---- issue 18: the Forgejo route held to Forgejo 11's rules
    Mutation(
        "user-password-without-every-class",
        USER,
        'secrets.token_urlsafe(PASSWORD_BYTES) + "".join(secrets.choice(chars) for chars in PASSWORD_CLASSES)',
        "secrets.token_urlsafe(PASSWORD_BYTES)",
        ("tests/forgejo/test_user_passwords.py",),
    ),
    Mutation(
        "client-reads-netrc",
        "disinto_infra/forgejo/client.py",
        "self._session.trust_env = False",
        "self._session.trust_env = True",
        k("netrc", "tests/forgejo/test_client.py"),
    ),
    Mutation(
        "paginate-ends-on-a-short-page",
        "disinto_infra/forgejo/client.py",
        "if total is not None and seen >= total:",
        "if len(items) < PAGE_LIMIT:",
        k("paginate", "tests/forgejo/test_client.py"),
    ),
    Mutation(
        "user-adopts-an-organization",
        USER,
        "    if _is_organization(client, conn, name):",
        "    if False:",
        k("organization", "tests/forgejo/test_user_adoption.py"),
    ),
    Mutation(
        "user-adopts-a-blocked-account",
        USER,
        'blocker = account_blocker(conn, {**existing, "login": name})',
        "blocker = None",
        k("blocked or external", "tests/forgejo/test_user_adoption.py"),
    ),
    Mutation(
        "collaborator-effective-access-is-a-change",
        COLLAB,
        "return wanted if RANK.get(effective, 0) >= RANK.get(wanted, 0) else effective",
        "return effective",
        ("tests/forgejo/test_collaborator.py",),
    ),
    Mutation(
        "check-misses-basic-auth-off",
        "disinto_infra/commands/check/forge.py",
        "if exc.status != 403:",
        "if True:",
        k("basic_auth", "tests/commands/check/test_forge.py"),
    ),
    Mutation(
        "agent-hands-out-its-password",
        "disinto_infra/program/agent.py",
        "AgentCredentials(token=self.token.token, password=self.token.token)",
        "AgentCredentials(token=self.token.token, password=self.user.password)",
        k("own_credentials", "tests/program/test_agent.py"),
    ),
    # ---- issue 17: least privilege, periodic tokens, the Vault identity, the review token, rights
    Mutation(
        "nomad-policy-reads-shared-forge",
        "disinto_infra/runtimes/nomad/vault_policy.py",
        '        PolicyRule(secret.metadata, ("list", "read")),\n',
        '        PolicyRule(secret.metadata, ("list", "read")),\n'
        '        PolicyRule(shared_forge(secret.mount).data, ("read",)),\n',
        k("policy_names_only_its_own_path", NOMAD_TESTS),
    ),
    Mutation(
        "nomad-role-max-ttl",
        NOMAD,
        "token_period=ROLE_TOKEN_PERIOD,",
        "token_period=ROLE_TOKEN_PERIOD, token_max_ttl=86400,",
        k("role_is_bound", NOMAD_TESTS),
    ),
    Mutation(
        "nomad-vault-restarts",
        NOMAD_JOB,
        'DisableFile=True, ChangeMode="noop"),',
        'DisableFile=True, ChangeMode="restart"),',
        k("role_is_bound", NOMAD_TESTS),
    ),
    Mutation(
        "nomad-identity-audience",
        NOMAD_JOB,
        "Audience=list(VAULT_AUDIENCES)",
        'Audience=["nomad.io"]',
        k("vault_identity", NOMAD_TESTS),
    ),
    Mutation(
        "nomad-review-token-to-all",
        NOMAD_JOB,
        "return [var for var in env if var.name != REVIEW_TOKEN_VAR or REVIEW_ROLE in roles]",
        "return list(env)",
        k("review_token", NOMAD_TESTS),
    ),
    Mutation(
        "vault-rights-create-only",
        "disinto_infra/runtimes/nomad/vault_rights.py",
        'WRITE_SECRET = ("create", "update", "read")',
        'WRITE_SECRET = ("create", "read")',
        k("rotation_needs_update", "tests/runtimes/nomad/test_vault_rights.py"),
    ),
    Mutation(
        "nomad-rights-own-volume-read-only",
        "disinto_infra/runtimes/nomad/nomad_rights.py",
        "NomadRight(HOST_VOLUME, v.name, (READ_WRITE,),",
        "NomadRight(HOST_VOLUME, v.name, (READ_ONLY, READ_WRITE),",
        k("every_host_volume", "tests/runtimes/nomad/test_nomad_rights.py"),
    ),
    Mutation(
        "bot-policy-denied-warned",
        "disinto_infra/commands/check/bot_policies.py",
        "if rule is None or not rule.grants(READ):",
        "if rule is None:",
        k("denied_or_unparseable", "tests/commands/check/test_vault.py"),
    ),
    Mutation(
        "docker-healthcheck-go-duration",
        "disinto_infra/runtimes/docker.py",
        "start_period=go_duration.of_seconds(settings.start_timeout_seconds),",
        'start_period=f"{settings.start_timeout_seconds}s",',
        ("tests/runtimes/test_docker.py",),
    ),
    Mutation(
        "docker-no-grace",
        "disinto_infra/runtimes/docker.py",
        "destroy_grace_seconds=grace,",
        "",
        ("tests/runtimes/test_docker.py",),
    ),
    Mutation(
        "docker-no-started-check",
        "disinto_infra/runtimes/docker.py",
        "            _started(args, container),",
        "            None,  # type: ignore[arg-type]",
        ("tests/runtimes/test_docker.py",),
    ),
    # Issue 26: the wrapper around the image's entrypoint.
    Mutation(
        "wrapper-keeps-the-last-starts-loop",
        "disinto_infra/runtimes/agent_entrypoint.py",
        "rm -rf {state} && mkdir -p {state}",
        "mkdir -p {state}",
        ("tests/runtimes/test_agent_entrypoint.py",),
    ),
    # Issue 30: the drain before a stop.
    Mutation(
        "drain-waits-for-nothing",
        "disinto_infra/runtimes/drain.py",
        "        if not sessions:\n",
        "        if True:\n",
        ("tests/runtimes/test_drain.py",),
    ),
    Mutation(
        "wrapper-ignores-the-drain",
        "disinto_infra/runtimes/agent_entrypoint.py",
        "trap drain {DRAIN_SIGNAL}\n",
        "",
        ("tests/runtimes/test_agent_entrypoint.py",),
    ),
    Mutation(
        "wrapper-stop-waits-for-nothing",
        "disinto_infra/runtimes/agent_entrypoint.py",
        "  while busy; do sleep 1; done\n",
        "",
        ("tests/runtimes/test_agent_entrypoint.py",),
    ),
    # The token is the agent's git password (issue 18): scopes that cannot push are refused.
    Mutation(
        "agent-scopes-without-push",
        "disinto_infra/config/token_scopes.py",
        'AGENT_NEEDS = ("write:repository", "read:user")',
        'AGENT_NEEDS = ("read:user",)',
        ("tests/config/test_token_scopes.py",),
    ),
]
