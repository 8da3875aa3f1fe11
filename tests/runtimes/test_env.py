"""The container environment model: every variable, its value and its secretness."""

from pathlib import Path

import pulumi

from disinto_infra.config.project_toml import parse_project_text
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.program.plan import is_secret, resolve_all, reveal, run_with_mocks
from disinto_infra.runtimes.env import AgentCredentials, EnvVar, build_env, docker_envs
from tests.support.examples import legacy_example_text
from tests.support.project_toml import HEADER, agent

F = Path("/opt/factory/projects/disinto.toml")
CREDS = AgentCredentials(token="tok-123", password="pw-456")


def legacy():
    project = parse_project_text(F, legacy_example_text())
    return project, project.agents[0]


def settings(**values) -> StackSettings:
    return StackSettings.from_mapping(values, Path("/srv/infra"), home="/home/op")


def as_dict(env: list[EnvVar]) -> dict:
    return {var.name: var.value for var in env}


def test_legacy_agent_gets_exactly_the_old_generator_environment():
    project, spec = legacy()
    assert as_dict(build_env(spec, project, settings(), CREDS)) == {
        "FORGE_URL": "http://forgejo:3000",
        "FORGE_REPO": "johba/disinto",
        "FACTORY_REPO": "johba/disinto",
        "FORGE_TOKEN": "tok-123",
        "FORGE_PASS": "pw-456",
        "FORGE_BOT_USER_DEV_QWEN": "dev-qwen",
        "AGENT_ROLES": "dev",
        "ANTHROPIC_BASE_URL": "http://10.10.10.1:8081",
        "ANTHROPIC_API_KEY": "sk-no-key-required",
        "CLAUDE_MODEL": "unsloth/Qwen3.5-35B-A3B",
        "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": "60",
        "POLL_INTERVAL": "60",
        "PROJECT_NAME": "disinto",
        "PROJECT_REPO_ROOT": "/home/agent/repos/disinto",
        "DISINTO_CONTAINER": "1",
        "CLAUDE_CONFIG_DIR": "/var/lib/disinto/claude-shared/config",
        "CLAUDE_CREDENTIALS_DIR": "/var/lib/disinto/claude-shared/config/credentials",
        "CLAUDE_TIMEOUT": "7200",
        "CLAUDE_CODE_ATTRIBUTION_HEADER": "0",
        "CLAUDE_CODE_ENABLE_TELEMETRY": "0",
        "WOODPECKER_DATA_DIR": "/woodpecker-data",
        "WOODPECKER_REPO_ID": "0",
        "FORGE_BOT_USERNAMES": "",
        "ARCHITECT_INTERVAL": "900",
        "PLANNER_INTERVAL": "43200",
        "SUPERVISOR_INTERVAL": "1200",
    }


def test_only_credentials_are_secret():
    project, spec = legacy()
    env = build_env(spec, project, settings(forgeReviewToken="rev"), CREDS)
    assert [v.name for v in env if v.secret] == ["FORGE_TOKEN", "FORGE_PASS", "ANTHROPIC_API_KEY", "FORGE_REVIEW_TOKEN"]


def test_values_follow_agent_project_and_stack():
    text = (
        HEADER
        + "[ci]\nwoodpecker_repo_id = 12\n"
        + agent("dev-qwen2", forge_user='"dev-qwen2"', roles='["dev", "review"]', compact_pct=80, poll_interval=30)
    )
    project = parse_project_text(F, text)
    s = settings(
        forgeInternalUrl="http://forge.internal:3000",
        claudeSharedDir="/data/claude/",
        architectInterval=300,
        plannerInterval=660,
        supervisorInterval=60,
        forgeBotUsernames=["a", "b"],
    )
    env = as_dict(build_env(project.agents[0], project, s, CREDS))
    assert env["AGENT_ROLES"] == "dev,review"  # comma-joined: the entrypoint matches ",<role>,"
    assert env["FORGE_BOT_USER_DEV_QWEN2"] == "dev-qwen2"
    assert (env["CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"], env["POLL_INTERVAL"], env["WOODPECKER_REPO_ID"]) == (
        "80",
        "30",
        "12",
    )
    assert env["FORGE_URL"] == "http://forge.internal:3000"
    assert env["CLAUDE_CREDENTIALS_DIR"] == "/data/claude/config/credentials"
    assert (env["ARCHITECT_INTERVAL"], env["PLANNER_INTERVAL"], env["SUPERVISOR_INTERVAL"]) == ("300", "660", "60")
    assert env["FORGE_BOT_USERNAMES"] == "a,b"


def test_review_token_only_when_set():
    project, spec = legacy()
    assert "FORGE_REVIEW_TOKEN" not in as_dict(build_env(spec, project, settings(), CREDS))
    assert "FORGE_REVIEW_TOKEN" not in as_dict(build_env(spec, project, settings(forgeReviewToken=""), CREDS))
    assert as_dict(build_env(spec, project, settings(forgeReviewToken="rev"), CREDS))["FORGE_REVIEW_TOKEN"] == "rev"


def test_docker_entries_keep_secrets_secret():
    project, spec = legacy()

    def program():
        # The token arrives as a plain (non-secret) Output, as under mocks: the env must secretise it.
        creds = AgentCredentials(token=pulumi.Output.from_input("tok-123"), password="pw-456")
        return docker_envs(build_env(spec, project, settings(), creds))

    run = run_with_mocks(program)
    entries = {got.value.split("=", 1)[0]: got for got in resolve_all(run.result)}
    assert entries["FORGE_TOKEN"].value == "FORGE_TOKEN=tok-123" and entries["FORGE_TOKEN"].secret
    assert entries["FORGE_PASS"].value == "FORGE_PASS=pw-456" and entries["FORGE_PASS"].secret
    assert entries["FORGE_REPO"].value == "FORGE_REPO=johba/disinto" and not entries["FORGE_REPO"].secret


def test_one_secret_entry_makes_the_registered_list_secret():
    env = [EnvVar("A", "1"), EnvVar("B", "2", secret=True)]

    def program():
        import pulumi_docker as docker

        docker.Container("c", image="img", envs=docker_envs(env))

    run = run_with_mocks(program)
    envs = run.named("c").inputs["envs"]
    assert is_secret(envs)
    assert reveal(envs) == ["A=1", "B=2"]


def test_a_base_url_with_credentials_is_secret_and_still_the_real_value():
    project = parse_project_text(F, HEADER + agent("a", base_url='"http://llm:hunter2@10.0.0.1:8081"'))
    env = {var.name: var for var in build_env(project.agents[0], project, settings(), CREDS)}
    assert env["ANTHROPIC_BASE_URL"].secret
    assert env["ANTHROPIC_BASE_URL"].value == "http://llm:hunter2@10.0.0.1:8081"
