"""Stack settings: defaults, `~`, the factory root, bad values, and the Pulumi config reader."""

from pathlib import Path

import pulumi
import pydantic
import pytest

from disinto_infra.config.project_toml import ConfigError
from disinto_infra.config.stack_settings import KEY_KINDS, SECRET_PLACEHOLDER, StackSettings, read_stack_file
from disinto_infra.program.plan import resolve_all, run_with_mocks
from disinto_infra.program.stack_config import running_stack_settings

ROOT = Path(__file__).resolve().parents[2]
PROJECT = Path("/srv/infra")
HOME = "/home/op"


def settings(**values) -> StackSettings:
    return StackSettings.from_mapping(values, PROJECT, home=HOME)


def test_defaults_of_every_key():
    s = settings()
    assert s.model_dump(exclude={"project_dir"}) == {
        "project_toml": "/srv/infra/projects/*.toml",
        "forge_url": "http://localhost:3000",
        "forge_internal_url": "http://forgejo:3000",
        "forge_timeout": 30.0,
        "admin_token": None,
        "admin_user": "disinto-admin",
        "admin_password": None,
        "agent_image": "ghcr.io/disinto/agents:latest",
        "network": "disinto_disinto-net",
        "factory_root": "/srv/infra",
        "claude_shared_dir": "/var/lib/disinto/claude-shared",
        "claude_config_file": "/home/op/.claude.json",
        "ssh_dir": "/home/op/.ssh",
        "forge_bot_usernames": "",
        "forge_review_token": None,
        "token_scopes": None,
        "adopt_existing_users": True,
        "architect_interval": 900,
        "planner_interval": 43200,
        "supervisor_interval": 1200,
        "env_file": None,
        "compose_project": "disinto",
        "token_max_age_days": None,
        "start_timeout_seconds": 600,
        "drain_timeout_seconds": 7200,
        "log_max_size": "10m",
        "log_max_files": 3,
        "stop_grace_seconds": 120,
        "docker_host": None,
        "runtime": "docker",
        "nomad_namespace": "default",
        "nomad_datacenters": ("dc1",),
        "nomad_node_pool": None,
        "nomad_constraint": None,
        "vault_kv_mount": "kv",
        "vault_kv_prefix": "disinto/bots",
        "vault_auth_mount": "jwt-nomad",
    }


def test_factory_root_defaults_to_the_folder_above_projects():
    assert settings(projectToml="/opt/factory/projects/disinto.toml").factory_root == "/opt/factory"
    assert settings(projectToml="~/dark-factory/projects/*.toml").factory_root == "/home/op/dark-factory"
    assert (
        settings(projectToml="/opt/f/projects/*.toml", factoryRoot="~/elsewhere").factory_root == "/home/op/elsewhere"
    )


def test_tilde_expands_against_the_pulumi_user_home():
    s = settings(claudeConfigFile="~/cfg/claude.json", sshDir="~", envFile="~/f/.env", claudeSharedDir="~/shared")
    assert (s.claude_config_file, s.ssh_dir, s.env_file, s.claude_shared_dir) == (
        "/home/op/cfg/claude.json",
        "/home/op",
        "/home/op/f/.env",
        "/home/op/shared",
    )


def test_env_file_is_absolute_against_the_project_folder():
    assert settings(envFile="factory/.env").env_file == "/srv/infra/factory/.env"
    assert settings(envFile="/opt/factory/.env").env_file == "/opt/factory/.env"
    assert settings().env_file is None


def test_docker_host_is_not_a_disinto_key():
    with pytest.raises(ConfigError) as caught:
        settings(dockerHost="ssh://box")
    assert caught.value.problems == ["disinto:dockerHost: unknown key"]


def test_string_values_as_pulumi_stores_them_are_typed():
    s = settings(
        architectInterval="300",
        adoptExistingUsers="false",
        tokenScopes='["write:repository", "read:user"]',
        forgeBotUsernames=["dev-bot", "review-bot"],
        forgeUrl="http://forge:3000/",
    )
    assert (s.architect_interval, s.adopt_existing_users) == (300, False)
    assert s.token_scopes == ("write:repository", "read:user")
    assert s.forge_bot_usernames == "dev-bot,review-bot"
    assert s.forge_url == "http://forge:3000"


@pytest.mark.parametrize(
    "values, line",
    [
        ({"forgeURL": "x"}, 'disinto:forgeURL: unknown key; did you mean "forgeUrl"?'),
        ({"nonsense": "x"}, "disinto:nonsense: unknown key"),
        ({"forgeInternalUrl": "forgejo:3000"}, 'disinto:forgeInternalUrl: must be an http(s) URL, not "forgejo:3000"'),
        ({"tokenScopes": ["repo"]}, 'disinto:tokenScopes: "repo" is not a Forgejo token scope'),
        ({"tokenScopes": []}, "disinto:tokenScopes: must be a non-empty list of token scopes, not []"),
        (
            {"plannerInterval": 0},
            "disinto:plannerInterval: must be a number of seconds above 0 and at most 604800 (a week), not 0",
        ),
        (
            {"agentImage": "ghcr.io/disinto/agents@sha256:abc"},
            "disinto:agentImage: must end in @sha256: and 64 lowercase hex digits when it names a digest, "
            'not "ghcr.io/disinto/agents@sha256:abc"',
        ),
        ({"tokenMaxAgeDays": 0}, "disinto:tokenMaxAgeDays: must be a whole number of days from 1 to 3650, not 0"),
        ({"tokenMaxAgeDays": True}, "disinto:tokenMaxAgeDays: must be a whole number of days from 1 to 3650, not true"),
        ({"adminPassword": 5}, "disinto:adminPassword: must be a string, got int (value not shown: it is a secret)"),
        (
            {"forgeBotUsernames": 3},
            "disinto:forgeBotUsernames: must be a comma-separated string or a list of names, not 3",
        ),
    ],
)
def test_bad_values_name_the_key(values, line):
    with pytest.raises(ConfigError) as caught:
        settings(**values)
    assert caught.value.problems == [line]


def test_settings_are_frozen_and_hide_secrets():
    s = settings(adminPassword="hunter22", forgeReviewToken="abc123")
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        s.network = "other"
    assert "hunter22" not in repr(s) and "abc123" not in repr(s)


def test_project_files(tmp_path):
    (tmp_path / "projects").mkdir()
    for name in ("b.toml", "a.toml", "c.txt"):
        (tmp_path / "projects" / name).write_text("")
    s = StackSettings.from_mapping({}, tmp_path, home=HOME)
    assert s.project_files() == [tmp_path / "projects" / "a.toml", tmp_path / "projects" / "b.toml"]
    # A plain path is returned as is: a missing file is then reported by the loader.
    assert StackSettings.from_mapping({"projectToml": "x.toml"}, tmp_path).project_files() == [tmp_path / "x.toml"]
    with pytest.raises(ConfigError) as caught:
        StackSettings.from_mapping({"projectToml": "none/*.toml"}, tmp_path).project_files()
    assert caught.value.problems == [f"disinto:projectToml: no file matches {tmp_path}/none/*.toml"]


def test_stack_file_secure_values_become_placeholders(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(
        "config:\n  docker:host: ssh://box\n  disinto:plannerInterval: '660'\n"
        "  disinto:forgeReviewToken:\n    secure: AAABAC==\n"
    )
    assert read_stack_file(path) == {"plannerInterval": "660", "forgeReviewToken": SECRET_PLACEHOLDER}
    # The Docker host is another machine: its bind paths are given as paths there.
    remote_paths = {"factoryRoot": "/srv/f", "sshDir": "/home/op/.ssh", "claudeConfigFile": "/home/op/c.json"}
    s = StackSettings.from_stack_file(path, tmp_path, {"architectInterval": 60, **remote_paths}, home=HOME)
    assert (s.planner_interval, s.architect_interval, s.forge_review_token) == (660, 60, SECRET_PLACEHOLDER)
    missing = tmp_path / "Pulumi.missing.yaml"
    assert StackSettings.from_stack_file(missing, tmp_path, missing_ok=True) == StackSettings.from_mapping({}, tmp_path)
    with pytest.raises(ConfigError) as caught:
        StackSettings.from_stack_file(missing, tmp_path)
    assert caught.value.problems == [
        f"{missing}: no such stack file; `pulumi stack init missing` makes the stack, and a copy of Pulumi.dev.yaml "
        "its settings"
    ]


def test_example_stack_sets_every_non_secret_setting_at_its_default():
    values = read_stack_file(ROOT / "Pulumi.dev.yaml")
    secrets = {k for k, kind in KEY_KINDS.items() if kind == "secret"}
    # documented as comments in the file
    computed_or_optional = {
        "factoryRoot",
        "envFile",
        "tokenMaxAgeDays",
        "nomadNodePool",
        "nomadConstraint",
        "tokenScopes",
    }
    assert set(values) == set(KEY_KINDS) - secrets - computed_or_optional
    assert StackSettings.from_mapping(values, PROJECT, HOME) == settings()


def test_the_running_stack_is_read_with_each_key_type():
    pulumi.runtime.set_all_config(
        {
            "disinto:architectInterval": "300",
            "disinto:tokenScopes": '["write:repository", "read:user"]',
            "disinto:adoptExistingUsers": "false",
            "disinto:adminPassword": "hunter22",
            "disinto:forgeReviewToken": "review-token",
            "docker:host": "ssh://ops@box",
            # paths on that other machine
            "disinto:factoryRoot": "/srv/f",
            "disinto:sshDir": "/home/op/.ssh",
            "disinto:claudeConfigFile": "/home/op/c",
        },
        ["disinto:adminPassword", "disinto:forgeReviewToken"],
    )
    try:
        run = run_with_mocks(lambda: running_stack_settings(PROJECT, home=HOME))
    finally:
        pulumi.runtime.set_all_config({}, [])
    s = run.result
    assert (s.architect_interval, s.token_scopes, s.adopt_existing_users) == (
        300,
        ("write:repository", "read:user"),
        False,
    )
    password, review = resolve_all([s.admin_password, s.forge_review_token])
    assert (password.value, password.secret) == ("hunter22", True)
    assert (review.value, review.secret) == ("review-token", True)
    assert s.admin_token is None
    assert s.docker_host == "ssh://ops@box"  # the Docker provider's own key, for the migration commands


def test_stack_file_docker_host_reaches_the_offline_commands(tmp_path):
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(
        "config:\n  docker:host: ssh://op@factory\n  disinto:network: net\n  disinto:factoryRoot: /srv/f\n"
        "  disinto:sshDir: /home/op/.ssh\n  disinto:claudeConfigFile: /home/op/c.json\n"
    )
    settings = StackSettings.from_stack_file(stack, tmp_path, home="/home/op")
    assert (settings.docker_host, settings.network) == ("ssh://op@factory", "net")


def test_relative_factory_root_means_the_project_folder(tmp_path):
    settings = StackSettings.from_mapping({"factoryRoot": "../factory"}, tmp_path, home="/home/op")
    assert settings.factory_root == str(tmp_path / "../factory")


def test_runtime_and_nomad_settings():
    s = settings(
        runtime="nomad",
        nomadDatacenters='["dc1", "dc2"]',
        nomadNodePool="agents",
        nomadConstraint='{"attribute": "${node.unique.name}", "value": "box1"}',
        vaultKvMount="/secret/",
    )
    assert (s.runtime, s.nomad_datacenters, s.nomad_node_pool, s.vault_kv_mount) == (
        "nomad",
        ("dc1", "dc2"),
        "agents",
        "secret",
    )
    assert (s.nomad_constraint.attribute, s.nomad_constraint.operator, s.nomad_constraint.value) == (
        "${node.unique.name}",
        "=",
        "box1",
    )
    assert settings(nomadDatacenters="dc1, dc2").nomad_datacenters == ("dc1", "dc2")


@pytest.mark.parametrize(
    "values, problem",
    [
        ({"runtime": "k8s"}, 'disinto:runtime: must be one of docker, nomad, not "k8s"'),
        ({"nomadDatacenters": "[]"}, "disinto:nomadDatacenters: must be a non-empty list of datacenter names, not []"),
        ({"nomadConstraint": '{"value": "box1"}'}, "disinto:nomadConstraint.attribute: Field required"),
        # No value given: judged as "" (issue 29), for every operator that needs one.
        (
            {"nomadConstraint": '{"attribute": "${node.unique.name}"}'},
            "disinto:nomadConstraint.value: is required for operator '='",
        ),
        (
            {"nomadConstraint": '{"attribute": "${node.unique.name}", "operator": "regexp"}'},
            "disinto:nomadConstraint.value: is required for operator 'regexp'",
        ),
        (
            {"nomadConstraint": '{"attribute": "${node.class}", "value": "gpu", "operator": "=~"}'},
            "disinto:nomadConstraint.operator: Input should be '=', '==', 'is', '!=', 'not', '>', '>=', '<', '<=', 'regexp', "
            "'version', 'semver', 'set_contains', 'set_contains_all', 'set_contains_any', 'is_set' or 'is_not_set'",
        ),
        (
            {"nomadNamespace": "agents/x"},
            "disinto:nomadNamespace: must be a Nomad namespace name (letters, digits and '-', at most 128), not \"agents/x\"",
        ),
        (
            {"vaultKvPrefix": "disinto/../x"},
            "disinto:vaultKvPrefix: must be a path of names separated by '/', not \"disinto/../x\"",
        ),
    ],
)
def test_bad_runtime_settings_name_the_key(values, problem):
    with pytest.raises(ConfigError) as caught:
        settings(**values)
    assert caught.value.problems == [problem]


def pulumi_settings(config: dict[str, str], secret_keys: list[str]):
    pulumi.runtime.set_all_config(config, secret_keys)
    try:
        return run_with_mocks(lambda: running_stack_settings(PROJECT, home=HOME)).result
    finally:
        pulumi.runtime.set_all_config({}, [])


def plain(stack: object, key: str, env: str = "") -> str:
    return (
        f"{stack}: {key}: is plain text in a file git tracks; set it with `pulumi config set --secret {key}` "
        "(it is then encrypted), and take the clear value out of the file's history if it was committed"
        + (f"; or leave it out and export {env}" if env else "")
    )


def test_provider_tokens_must_be_secret_config():
    """Plain, they would sit in the stack file and, as the default providers' inputs, in the state."""
    tokens = {"vault:token": "hvs.plain", "nomad:secretId": "acl-plain", "disinto:runtime": "nomad"}
    with pytest.raises(ConfigError) as caught:
        pulumi_settings(tokens, [])
    assert caught.value.problems == [
        plain("Pulumi.dev.yaml", "nomad:secretId", "NOMAD_TOKEN"),
        plain("Pulumi.dev.yaml", "vault:token", "VAULT_TOKEN"),
    ]
    assert "hvs.plain" not in str(caught.value)
    assert pulumi_settings(tokens, ["vault:token", "nomad:secretId"]).runtime == "nomad"
    assert pulumi_settings({"disinto:runtime": "nomad"}, []).runtime == "nomad"  # env vars instead


def test_the_stack_file_must_hold_provider_tokens_encrypted(tmp_path):
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text("config:\n  vault:token: hvs.plain\n  nomad:secretId:\n    secure: v1:abc\n")
    with pytest.raises(ConfigError) as caught:
        StackSettings.from_stack_file(stack, tmp_path, home=HOME)
    assert caught.value.problems == [plain(stack, "vault:token", "VAULT_TOKEN")]
    stack.write_text("config:\n  vault:token:\n    secure: v1:def\n")
    assert StackSettings.from_stack_file(stack, tmp_path, home=HOME).runtime == "docker"


def test_stack_file_problems_name_the_file_and_come_all_at_once(tmp_path):
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text("config:\n  disinto:nomadNamespace: a/b\n  disinto:plannerInterval: 0\n  vault:token: hvs.plain\n")
    with pytest.raises(ConfigError) as caught:
        StackSettings.from_stack_file(stack, tmp_path, home=HOME)
    assert caught.value.problems == [
        f"{stack}: disinto:plannerInterval: must be a number of seconds above 0 and at most 604800 (a week), not 0",
        f"{stack}: disinto:nomadNamespace: must be a Nomad namespace name (letters, digits and '-', at most 128), not \"a/b\"",
        plain(stack, "vault:token", "VAULT_TOKEN"),
    ]


def test_the_running_stack_names_its_file_too():
    with pytest.raises(ConfigError) as caught:
        pulumi_settings({"disinto:runtime": "kubernetes"}, [])
    assert caught.value.problems == ['Pulumi.dev.yaml: disinto:runtime: must be one of docker, nomad, not "kubernetes"']


def test_container_seconds_default_and_read_as_pulumi_stores_them():
    assert (settings().start_timeout_seconds, settings().stop_grace_seconds) == (600, 120)
    s = settings(startTimeoutSeconds="900", stopGraceSeconds="30")
    assert (s.start_timeout_seconds, s.stop_grace_seconds) == (900, 30)


@pytest.mark.parametrize(
    "values, line",
    [
        ({"stopGraceSeconds": 0}, "disinto:stopGraceSeconds: must be a whole number of seconds from 1 to 1140, not 0"),
        (
            {"stopGraceSeconds": "2m"},
            'disinto:stopGraceSeconds: must be a whole number of seconds from 1 to 1140, not "2m"',
        ),
        (
            {"stopGraceSeconds": 1200},
            "disinto:stopGraceSeconds: must be a whole number of seconds from 1 to 1140, not 1200",
        ),
        (
            {"startTimeoutSeconds": 20},
            "disinto:startTimeoutSeconds: must be a whole number of seconds from 30 to 1140, not 20",
        ),
        (
            {"startTimeoutSeconds": True},
            "disinto:startTimeoutSeconds: must be a whole number of seconds from 30 to 1140, not true",
        ),
    ],
)
def test_container_seconds_bounds_name_the_key(values, line):
    with pytest.raises(ConfigError) as caught:
        settings(**values)
    assert caught.value.problems == [line]


def remote(host: str = "ssh://op@box", **values) -> StackSettings:
    return StackSettings.from_mapping(values, PROJECT, home=HOME, docker_host=host)


REMOTE_OK = {"factoryRoot": "/srv/f", "sshDir": "/home/op/.ssh", "claudeConfigFile": "/home/op/.claude.json"}


@pytest.mark.parametrize(
    "values, line",
    [
        (
            {"sshDir": "keys"},
            'disinto:sshDir: must be an absolute path: Docker refuses a relative bind path, not "keys"',
        ),
        (
            {"claudeConfigFile": "claude.json"},
            "disinto:claudeConfigFile: must be an absolute path: "
            'Docker refuses a relative bind path, not "claude.json"',
        ),
        (
            {"claudeSharedDir": "shared"},
            "disinto:claudeSharedDir: must be an absolute path (it is the path inside the "
            'container too): Docker refuses a relative bind path, not "shared"',
        ),
    ],
)
def test_relative_bind_paths_are_refused(values, line):
    with pytest.raises(ConfigError) as caught:
        settings(**values)
    assert caught.value.problems == [line]


def test_the_nomad_runtime_binds_none_of_them():
    assert settings(runtime="nomad", sshDir="keys").ssh_dir == "keys"


def test_tilde_is_refused_when_the_docker_host_is_another_machine():
    with pytest.raises(ConfigError) as caught:
        remote(factoryRoot="/srv/f")
    assert caught.value.problems == [
        'disinto:claudeConfigFile: the default "~/.claude.json": `~` would be expanded on this machine, '
        "but the Docker host is ssh://op@box; give the absolute path on that host",
        'disinto:sshDir: the default "~/.ssh": `~` would be expanded on this machine, '
        "but the Docker host is ssh://op@box; give the absolute path on that host",
    ]
    with pytest.raises(ConfigError) as caught:
        remote(**{**REMOTE_OK, "sshDir": "~/keys"})
    assert caught.value.problems == [
        'disinto:sshDir: "~/keys": `~` would be expanded on this machine, '
        "but the Docker host is ssh://op@box; give the absolute path on that host"
    ]
    assert remote(**REMOTE_OK).ssh_dir == "/home/op/.ssh"


@pytest.mark.parametrize(
    "values, fragment",
    [
        ({"factoryRoot": "~/disinto"}, '"~/disinto": `~` would be expanded on this machine'),
        ({"factoryRoot": "../factory"}, '"../factory" is relative to this project folder'),
        ({"factoryRoot": None}, 'unset, so it would come from projectToml "projects/*.toml", a path on this machine'),
        ({"factoryRoot": None, "projectToml": "~/f/projects/*.toml"}, 'from projectToml "~/f/projects/*.toml"'),
    ],
)
def test_the_factory_root_of_another_machine_is_an_absolute_path_there(values, fragment):
    with pytest.raises(ConfigError) as caught:
        remote(**{**REMOTE_OK, **values})
    [line] = caught.value.problems
    assert line.startswith("disinto:factoryRoot: ") and fragment in line and "ssh://op@box" in line
    assert (
        remote(**{**REMOTE_OK, "factoryRoot": None, "projectToml": "/srv/f/projects/*.toml"}).factory_root == "/srv/f"
    )


def test_a_docker_host_that_is_no_string_is_named_as_the_stack_file_spells_it(tmp_path):
    # Found when the stack file's values became `object`: the message named disinto:dockerHost,
    # a key no stack file holds.
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  docker:host: 3\n")
    with pytest.raises(ConfigError) as caught:
        StackSettings.from_stack_file(path, tmp_path)
    assert caught.value.problems == [f"{path}: docker:host: Input should be a valid string"]


def test_a_secret_setting_of_another_type_is_refused_without_its_value(tmp_path):
    with pytest.raises(ConfigError) as caught:
        StackSettings.from_mapping({"adminToken": 123456789}, tmp_path)
    assert caught.value.problems == ["disinto:adminToken: must be a string, got int (value not shown: it is a secret)"]
    assert "123456789" not in str(caught.value)


def test_log_rotation_defaults_and_read_as_pulumi_stores_them():
    assert (settings().log_max_size, settings().log_max_files) == ("10m", 3)
    s = settings(logMaxSize="50m", logMaxFiles="5")
    assert (s.log_max_size, s.log_max_files) == ("50m", 5)


@pytest.mark.parametrize(
    "values, line",
    [
        (
            {"logMaxSize": "10"},
            'disinto:logMaxSize: must be a size like 10m (a whole number and k, m or g), at most 1g, not "10"',
        ),
        (
            {"logMaxSize": "2g"},
            'disinto:logMaxSize: must be a size like 10m (a whole number and k, m or g), at most 1g, not "2g"',
        ),
        (
            {"logMaxSize": "10MB"},
            'disinto:logMaxSize: must be a size like 10m (a whole number and k, m or g), at most 1g, not "10MB"',
        ),
        ({"logMaxFiles": "0"}, "disinto:logMaxFiles: must be a whole number of files from 1 to 20, not 0"),
        (
            {"drainTimeoutSeconds": "-1"},
            'disinto:drainTimeoutSeconds: must be a whole number of seconds from 0 to 86400, not "-1"',
        ),
        (
            {"drainTimeoutSeconds": 86401},
            "disinto:drainTimeoutSeconds: must be a whole number of seconds from 0 to 86400, not 86401",
        ),
        ({"logMaxFiles": 21}, "disinto:logMaxFiles: must be a whole number of files from 1 to 20, not 21"),
    ],
)
def test_log_rotation_bounds_name_the_key(values, line):
    with pytest.raises(ConfigError) as caught:
        settings(**values)
    assert caught.value.problems == [line]


def test_a_forgejo_address_with_user_info_is_refused_without_showing_the_password():
    """requests would send it as basic auth in place of the admin token (issue 27 item 5)."""
    for key in ("forgeUrl", "forgeInternalUrl"):
        with pytest.raises(ConfigError) as caught:
            settings(**{key: "http://admin:s3cr3t@forgejo:3000"})
        (line,) = caught.value.problems
        assert line.startswith(f"disinto:{key}: must not hold a user name or password (http://admin:***@forgejo:3000)")
        assert "s3cr3t" not in line


@pytest.mark.parametrize("key", ["adminPassword", "adminToken", "forgeReviewToken"])
def test_our_own_secrets_in_clear_in_the_stack_file_are_refused(tmp_path, key):
    """Issue 28 item 7: the stack file is tracked by git; a clear secret there is named, not shown."""
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(f"config:\n  disinto:{key}: s3cret-in-clear\n")
    with pytest.raises(ConfigError) as caught:
        StackSettings.from_stack_file(stack, tmp_path, home=HOME)
    assert caught.value.problems == [plain(stack, f"disinto:{key}")]
    assert "s3cret-in-clear" not in str(caught.value)
    stack.write_text(f"config:\n  disinto:{key}:\n    secure: v1:abc\n")
    assert StackSettings.from_stack_file(stack, tmp_path, home=HOME).runtime == "docker"


@pytest.mark.parametrize("url", ["http://forgejo:3000/api/v1", "http://forgejo:3000/api", "http://forgejo:3000/?x=1"])
def test_a_forge_url_that_is_not_forgejos_root_is_refused(url):
    """Issue 28 item 5: /api/v1 is appended to it, by us and by the agents."""
    with pytest.raises(ConfigError) as caught:
        StackSettings.from_mapping({"forgeUrl": url}, PROJECT, HOME)
    [problem] = caught.value.problems
    assert problem.startswith("disinto:forgeUrl: must be Forgejo's root URL")


@pytest.mark.parametrize(
    ("key", "value", "bound"),
    [
        ("plannerInterval", 604801, "at most 604800 (a week)"),
        ("forgeTimeout", 601, "at most 600"),
        ("tokenMaxAgeDays", 3651, "from 1 to 3650"),
    ],
)
def test_numbers_no_factory_means_are_refused_saying_the_bound(key, value, bound):
    """Issue 28 item 6."""
    with pytest.raises(ConfigError) as caught:
        StackSettings.from_mapping({key: value}, PROJECT, HOME)
    [problem] = caught.value.problems
    assert problem.startswith(f"disinto:{key}: ") and bound in problem


def test_a_key_set_twice_in_the_stack_file_is_refused_as_pulumi_refuses_it(tmp_path):
    """PyYAML keeps the last value without a word; the Pulumi CLI (Go's yaml.v3) refuses the file."""
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config:\n  disinto:forgeTimeout: 30\n  disinto:forgeTimeout: 40\n")
    with pytest.raises(ConfigError) as caught:
        read_stack_file(path)
    assert caught.value.problems == [
        f"{path}: disinto:forgeTimeout is set twice (lines 2 and 3); Pulumi refuses the file: keep one"
    ]
    path.write_text("config:\n  disinto:forgeTimeout: 30\n  docker:host: unix:///var/run/docker.sock\n")
    assert read_stack_file(path) == {"forgeTimeout": 30}
