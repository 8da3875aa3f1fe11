"""The TOML model: the shipped example, defaults, and every validation rule with its exact line."""

from pathlib import Path

import pydantic
import pytest

from disinto_infra.config.project_toml import AgentSpec, ConfigError, parse_project_text
from tests.support.examples import EXAMPLE, legacy_example_text
from tests.support.project_toml import HEADER, agent, load_fleet

F = Path("projects/p.toml")


def problems(text: str, path: Path = F, **kwargs) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_project_text(path, text, **kwargs)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def one_problem(text: str, **kwargs) -> str:
    found = problems(text, **kwargs)
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------- accepted input


def test_shipped_example_validates_with_zero_agents():
    fleet = load_fleet([EXAMPLE])
    (project,) = fleet.projects
    assert (project.name, project.repo, project.woodpecker_repo_id) == ("disinto", "johba/disinto", 0)
    assert project.agents == ()
    assert fleet.agents() == []


def test_legacy_llama_section_keeps_its_forge_user():
    project = parse_project_text(F, legacy_example_text())
    (llama,) = project.agents
    assert llama == AgentSpec(
        name="llama",
        base_url="http://10.10.10.1:8081",
        model="unsloth/Qwen3.5-35B-A3B",
        api_key="sk-no-key-required",
        roles=("dev",),
        forge_user="dev-qwen",
        compact_pct=60,
        poll_interval=60,
    )
    assert llama.env_suffix == "DEV_QWEN"


def test_defaults_follow_the_old_generator():
    (spec,) = parse_project_text(F, HEADER + agent("llama")).agents
    assert spec.forge_user == "llama-bot"
    assert (spec.api_key, spec.roles, spec.compact_pct, spec.poll_interval) == ("sk-no-key-required", ("dev",), 60, 60)
    assert (spec.token_scopes, spec.rotate_token, spec.rotate_password) == (None, 0, 0)


def test_own_keys_are_read():
    text = HEADER + agent(
        "a",
        token_scopes='["write:repository", "read:user"]',
        rotate_token=2,
        rotate_password=3,
        roles='["dev", "review"]',
    )
    (spec,) = parse_project_text(F, text).agents
    assert (spec.token_scopes, spec.rotate_token, spec.rotate_password) == (("write:repository", "read:user"), 2, 3)
    assert spec.roles == ("dev", "review")


def test_schedule_is_not_an_agent_and_other_tables_are_left_alone():
    text = (
        HEADER
        + '[agents.schedule]\narchitect_interval = 900\nplanner_interval = "x"\n'
        + '[mirrors]\nanything = [1, "two"]\n[ci]\nwoodpecker_repo_id = 7\nstale_minutes = "odd"\n'
        + agent("a")
    )
    project = parse_project_text(F, text)
    assert [a.name for a in project.agents] == ["a"]
    assert project.woodpecker_repo_id == 7


def test_models_are_frozen():
    (spec,) = parse_project_text(F, HEADER + agent("a")).agents
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        spec.model = "other"


# ---------------------------------------------------------------- one rule, one exact line


@pytest.mark.parametrize(
    "fields, line",
    [
        ({"base_url": None}, "projects/p.toml: agents.a.base_url: is required"),
        ({"model": None}, "projects/p.toml: agents.a.model: is required"),
        (
            {"base_url": '"10.0.0.1:8081"'},
            'projects/p.toml: agents.a.base_url: must be an http(s) URL, not "10.0.0.1:8081"',
        ),
        ({"base_url": '"ftp://host"'}, 'projects/p.toml: agents.a.base_url: must be an http(s) URL, not "ftp://host"'),
        (
            {"base_url": '"ftp://u:hunter2@host"'},
            'projects/p.toml: agents.a.base_url: must be an http(s) URL, not "ftp://u:***@host"',
        ),
        ({"base_url": "8081"}, "projects/p.toml: agents.a.base_url: must be an http(s) URL, not 8081"),
        ({"model": '""'}, 'projects/p.toml: agents.a.model: must be a non-empty string, not ""'),
        ({"model": "3"}, "projects/p.toml: agents.a.model: must be a non-empty string, not 3"),
        (
            {"api_key": "1"},
            "projects/p.toml: agents.a.api_key: must be a string, got int (value not shown: it is a credential)",
        ),
        (
            {"roles": '"dev"'},
            'projects/p.toml: agents.a.roles: must be a non-empty list of non-empty strings, not "dev"',
        ),
        ({"roles": "[]"}, "projects/p.toml: agents.a.roles: must be a non-empty list of non-empty strings, not []"),
        (
            {"roles": '["dev", ""]'},
            'projects/p.toml: agents.a.roles: must be a non-empty list of non-empty strings, not ["dev", ""]',
        ),
        ({"compact_pct": "0"}, "projects/p.toml: agents.a.compact_pct: must be an integer from 1 to 100, not 0"),
        ({"compact_pct": "101"}, "projects/p.toml: agents.a.compact_pct: must be an integer from 1 to 100, not 101"),
        ({"compact_pct": "true"}, "projects/p.toml: agents.a.compact_pct: must be an integer from 1 to 100, not true"),
        ({"compact_pct": '"60"'}, 'projects/p.toml: agents.a.compact_pct: must be an integer from 1 to 100, not "60"'),
        (
            {"poll_interval": "0"},
            "projects/p.toml: agents.a.poll_interval: must be a whole number of seconds from 1 to 86400 (a day), not 0",
        ),
        (
            {"poll_interval": "1.5"},
            "projects/p.toml: agents.a.poll_interval: must be a whole number of seconds from 1 to 86400 (a day), not 1.5",
        ),
        ({"rotate_token": "-1"}, "projects/p.toml: agents.a.rotate_token: must be a non-negative integer, not -1"),
        (
            {"rotate_password": '"x"'},
            'projects/p.toml: agents.a.rotate_password: must be a non-negative integer, not "x"',
        ),
        (
            {"token_scopes": '["repo"]'},
            'projects/p.toml: agents.a.token_scopes: "repo" is not a Forgejo token scope '
            "(all, public-only, read:<group> or write:<group>)",
        ),
        (
            {"token_scopes": '["sudo"]'},
            'projects/p.toml: agents.a.token_scopes: "sudo" is not a Forgejo token scope '
            "(all, public-only, read:<group> or write:<group>)",
        ),
        (
            {"token_scopes": "[]"},
            "projects/p.toml: agents.a.token_scopes: must be a non-empty list of token scopes, not []",
        ),
        (
            {"token_scopes": '["public-only"]'},
            "projects/p.toml: agents.a.token_scopes: a token needs at least one scope",
        ),
        ({"forge_user": "7"}, "projects/p.toml: agents.a.forge_user: must be a string, not 7"),
        (
            {"forge_user": '"dev.qwen"'},
            "projects/p.toml: agents.a.forge_user: must not contain '.' (it cannot appear in an env variable name)",
        ),
        (
            {"forge_user": '"dev--qwen"'},
            "projects/p.toml: agents.a.forge_user: must not contain two of '-', '_' in a row",
        ),
        (
            {"forge_user": f'"{"x" * 41}"'},
            "projects/p.toml: agents.a.forge_user: must be at most 40 characters, not 41",
        ),
        ({"forge_user": '"api"'}, 'projects/p.toml: agents.a.forge_user: "api" is reserved by Forgejo 11, 12 and 15'),
        (
            {"forge_user": '"disinto-admin"'},
            'projects/p.toml: agents.a.forge_user: must not be the admin user "disinto-admin"',
        ),
        ({"modle": '"x"'}, 'projects/p.toml: agents.a.modle: unknown key; did you mean "model"?'),
        ({"forge-user": '"x"'}, 'projects/p.toml: agents.a.forge-user: unknown key; did you mean "forge_user"?'),
        (
            {"formula": '"/srv/factory/formulas/dev.toml"'},
            "projects/p.toml: agents.a.formula: must be relative to the "
            'factory root (disinto:factoryRoot), not "/srv/factory/formulas/dev.toml"',
        ),
        (
            {"formula": '"~/formulas/dev.toml"'},
            "projects/p.toml: agents.a.formula: must be relative to the factory root "
            '(disinto:factoryRoot), not "~/formulas/dev.toml"',
        ),
        (
            {"formula": '"formulas/../../x.toml"'},
            "projects/p.toml: agents.a.formula: must name a file inside the factory "
            'root, not "formulas/../../x.toml" (".." leaves it)',
        ),
        (
            {"formula": '""'},
            "projects/p.toml: agents.a.formula: must be a non-empty string: a path relative to the "
            "factory root, like formulas/review-pr.toml",
        ),
        (
            {"formula": "3"},
            "projects/p.toml: agents.a.formula: must be a non-empty string: a path relative to the "
            "factory root, like formulas/review-pr.toml",
        ),
        (
            {"zzz": "1"},
            "projects/p.toml: agents.a.zzz: unknown key (known keys: base_url, model, api_key, roles, "
            "forge_user, compact_pct, poll_interval, token_scopes, rotate_token, rotate_password, formula, "
            "token_max_age_days)",
        ),
        (
            {"token_max_age_days": "0"},
            "projects/p.toml: agents.a.token_max_age_days: must be a whole number of days from 1 to 3650, not 0",
        ),
        (
            {"token_max_age_days": "true"},
            "projects/p.toml: agents.a.token_max_age_days: must be a whole number of days from 1 to 3650, not true",
        ),
    ],
)
def test_agent_field_rule(fields, line):
    assert one_problem(HEADER + agent("a", **fields)) == line


def test_agent_name_rule():
    assert one_problem(HEADER + agent("Llama")) == (
        "projects/p.toml: agents.Llama: agent name must be lower-case letters, digits and single dashes, "
        "starting with a letter and not ending with a dash"
    )


def test_agent_name_longer_than_a_dns_label_allows_for_its_container():
    name = "a" * 49
    assert one_problem(HEADER + agent(name, forge_user='"long-one"')) == (
        f"projects/p.toml: agents.{name}: agent name must be at most 48 characters, not 49: its container name "
        f"disinto-agents-{name} would be 64 characters, over the 63 of a DNS label (Docker's network resolves "
        "containers by name)"
    )
    assert parse_project_text(F, HEADER + agent("a" * 48, forge_user='"long-one"')).agents[0].name == "a" * 48


def test_default_forge_user_longer_than_forgejo_allows_says_what_to_change():
    name = "b" * 37
    assert one_problem(HEADER + agent(name)) == (
        f'projects/p.toml: agents.{name}.forge_user: the default forge_user "{name}-bot" is 41 characters, over '
        "Forgejo's 40-character username limit: set forge_user, or use an agent name of at most 36 characters"
    )
    assert parse_project_text(F, HEADER + agent("b" * 36)).agents[0].forge_user == "b" * 36 + "-bot"
    # A name too long for Docker is said once, not again through its default forge_user.
    assert one_problem(HEADER + agent("c" * 60)).startswith(f"projects/p.toml: agents.{'c' * 60}: agent name must be")


def test_formula_key_is_kept():
    spec = parse_project_text(F, HEADER + agent("a", formula='"formulas/review-pr.toml"')).agents[0]
    assert spec.formula == "formulas/review-pr.toml"
    assert parse_project_text(F, HEADER + agent("b")).agents[0].formula is None


def test_agent_table_cannot_rename_itself():
    assert one_problem(HEADER + agent("a", name='"b"')) == (
        "projects/p.toml: agents.a.name: unknown key (an agent is named by its table, here [agents.a])"
    )


def test_forge_user_default_derives_from_the_agent_name():
    # `admin` is fine as an agent name, and its default forge_user is admin-bot.
    assert parse_project_text(F, HEADER + agent("admin")).agents[0].forge_user == "admin-bot"


def test_configured_admin_user_is_refused_as_forge_user():
    line = one_problem(HEADER + agent("a", forge_user='"root"'), admin_user="root")
    assert line == 'projects/p.toml: agents.a.forge_user: must not be the admin user "root"'


def test_agent_must_be_a_table():
    assert one_problem(HEADER + "[agents]\nllama = 3\n") == "projects/p.toml: agents.llama: must be a table, not 3"
    assert one_problem(HEADER + 'agents = "x"\n') == 'projects/p.toml: agents: must be a table, not "x"'


@pytest.mark.parametrize(
    "text, line",
    [
        ('repo = "a/b"\n', "projects/p.toml: name: is required"),
        ('name = "d"\n', "projects/p.toml: repo: is required"),
        (
            'name = "my project"\nrepo = "a/b"\n',
            "projects/p.toml: name: must be letters, digits, dots and inner dashes, "
            'not "my project" (it is the domain of the bots\' e-mail <forge_user>@<name>.local)',
        ),
        ('name = "d"\nrepo = "disinto"\n', 'projects/p.toml: repo: must be "owner/name", not "disinto"'),
        (
            HEADER + "[ci]\nwoodpecker_repo_id = -3\n",
            "projects/p.toml: ci.woodpecker_repo_id: must be a non-negative integer, not -3",
        ),
    ],
)
def test_project_rule(text, line):
    assert one_problem(text) == line


def test_syntax_error_names_the_line():
    assert one_problem(HEADER + "[agents.a]\nbase_url = \n") == ("projects/p.toml: line 4: Invalid value (column 12)")
    assert one_problem(HEADER + "roles = [1,\n") == "projects/p.toml: line 3: Invalid value (at end of file)"


def test_every_problem_is_reported_at_once():
    text = 'name = "d"\n' + agent("a", compact_pct="0", modle='"x"') + agent("B") + agent("c", base_url=None)
    assert problems(text) == [
        "projects/p.toml: repo: is required",
        "projects/p.toml: agents.a.compact_pct: must be an integer from 1 to 100, not 0",
        'projects/p.toml: agents.a.modle: unknown key; did you mean "model"?',
        "projects/p.toml: agents.B: agent name must be lower-case letters, digits and single dashes, "
        "starting with a letter and not ending with a dash",
        "projects/p.toml: agents.c.base_url: is required",
    ]


# ---------------------------------------------------------------- across agents and files


def test_forge_user_must_be_distinct_case_insensitively():
    text = HEADER + agent("a", forge_user='"dev-qwen"') + agent("b", forge_user='"Dev-Qwen"')
    assert one_problem(text) == 'projects/p.toml: agents.b.forge_user: "Dev-Qwen" is already the forge_user of agents.a'


def test_env_suffix_must_be_distinct():
    text = HEADER + agent("a", forge_user='"dev-qwen"') + agent("b", forge_user='"dev_qwen"')
    assert one_problem(text) == (
        'projects/p.toml: agents.b.forge_user: env suffix DEV_QWEN of "dev_qwen" is already used by '
        'agents.a ("dev-qwen")'
    )


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_collisions_across_files(tmp_path):
    one = write(tmp_path, "one.toml", HEADER + agent("a", forge_user='"dev-qwen"') + agent("c"))
    two = write(
        tmp_path,
        "two.toml",
        'name = "other"\nrepo = "o/r"\n' + agent("b", forge_user='"dev_qwen"') + agent("c", forge_user='"c2"'),
    )
    three = write(tmp_path, "three.toml", 'name = "third"\nrepo = "o/t"\n' + agent("d", forge_user='"Dev-Qwen"'))
    with pytest.raises(ConfigError) as caught:
        load_fleet([one, two, three])
    assert caught.value.problems == [
        f'{two}: agents.b.forge_user: env suffix DEV_QWEN of "dev_qwen" is already used by agents.a ("dev-qwen" in {one})',
        f"{two}: agents.c: agent name is already used in {one} (container disinto-agents-c)",
        f'{three}: agents.d.forge_user: "Dev-Qwen" is already the forge_user of agents.a in {one}',
    ]


def test_load_fleet_reports_every_file(tmp_path):
    bad = write(tmp_path, "bad.toml", HEADER + agent("a", model='""'))
    broken = write(tmp_path, "broken.toml", "name = \n")
    missing = tmp_path / "missing.toml"
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(b'name = "d\xe9"\n')
    with pytest.raises(ConfigError) as caught:
        load_fleet([bad, broken, missing, latin1])
    assert caught.value.problems == [
        f'{bad}: agents.a.model: must be a non-empty string, not ""',
        f"{broken}: line 1: Invalid value (column 8)",
        f"{missing}: cannot read: No such file or directory",
        f"{latin1}: not UTF-8 text (invalid continuation byte at byte 9)",
    ]


def test_cross_file_clash_is_found_even_when_a_file_has_other_problems(tmp_path):
    one = write(tmp_path, "one.toml", HEADER + agent("a", forge_user='"dev-qwen"'))
    two = write(tmp_path, "two.toml", 'name = "x"\n' + agent("b", forge_user='"dev-qwen"'))
    with pytest.raises(ConfigError) as caught:
        load_fleet([one, two])
    assert caught.value.problems == [
        f"{two}: repo: is required",
        f'{two}: agents.b.forge_user: "dev-qwen" is already the forge_user of agents.a in {one}',
    ]


def test_collision_checks_look_up_keys_instead_of_pairing_every_agent(tmp_path, monkeypatch):
    """Linear, not quadratic: only agents that share a name, user or env suffix are ever compared."""
    from disinto_infra.config import project_toml as model

    compared = []
    real = model._clash
    monkeypatch.setattr(model, "_clash", lambda a, b, where: compared.append((a.name, b.name)) or real(a, b, where))
    many = "".join(agent(f"a{i}") for i in range(300))
    one = write(tmp_path, "one.toml", HEADER + many + agent("x", forge_user='"a7-bot"'))
    two = write(tmp_path, "two.toml", 'name = "o"\nrepo = "o/r"\n' + agent("a9") + agent("y", forge_user='"A8_BOT"'))
    with pytest.raises(ConfigError) as caught:
        load_fleet([one, two])
    assert compared == [("x", "a7"), ("a9", "a9"), ("y", "a8")]
    assert caught.value.problems == [
        f'{one}: agents.x.forge_user: "a7-bot" is already the forge_user of agents.a7',
        f"{two}: agents.a9: agent name is already used in {one} (container disinto-agents-a9)",
        f'{two}: agents.y.forge_user: env suffix A8_BOT of "A8_BOT" is already used by agents.a8 ("a8-bot" in {one})',
    ]


def test_cross_file_clash_is_reported_against_the_earliest_agent_of_another_file(tmp_path):
    one = write(tmp_path, "one.toml", HEADER + agent("a", forge_user='"u1"') + agent("b", forge_user='"U1"'))
    two = write(
        tmp_path,
        "two.toml",
        'name = "o"\nrepo = "o/r"\n' + agent("c", forge_user='"u1"') + agent("d", forge_user='"u1"'),
    )
    with pytest.raises(ConfigError) as caught:
        load_fleet([one, two])
    assert caught.value.problems == [
        f'{one}: agents.b.forge_user: "U1" is already the forge_user of agents.a',
        f'{two}: agents.d.forge_user: "u1" is already the forge_user of agents.c',
        f'{two}: agents.c.forge_user: "u1" is already the forge_user of agents.a in {one}',
        f'{two}: agents.d.forge_user: "u1" is already the forge_user of agents.a in {one}',
    ]


def test_load_fleet_keeps_file_order(tmp_path):
    one = write(tmp_path, "one.toml", HEADER + agent("a"))
    two = write(tmp_path, "two.toml", 'name = "other"\nrepo = "o/r"\n' + agent("b") + agent("c"))
    fleet = load_fleet([one, two])
    assert [(p.name, a.name) for p, a in fleet.agents()] == [("disinto", "a"), ("other", "b"), ("other", "c")]
    assert fleet.projects[0].path == one


# Issue 28 item 5: addresses that reach the agent's container unchanged and fail there.


@pytest.mark.parametrize(
    ("base_url", "said"),
    [
        (
            '"http://10.0.0.1:8081/v1"',
            "must be the server's root, not http://10.0.0.1:8081/v1: the agent appends "
            "/v1/messages itself (write http://10.0.0.1:8081)",
        ),
        ('"http://10.0.0.1:8081/v1/messages"', "(write http://10.0.0.1:8081)"),
        ('"http://10.0.0.1:8081/proxy/v1/chat/completions"', "(write http://10.0.0.1:8081/proxy)"),
        ('"http://10.0.0.1:8081/#main"', "must hold no fragment"),
    ],
)
def test_a_base_url_the_agent_cannot_use_is_refused_naming_the_field(base_url, said):
    problem = one_problem(HEADER + agent("a", base_url=base_url))
    assert problem.startswith(f"{F}: agents.a.base_url: ") and said in problem


def test_a_base_url_under_a_path_prefix_is_fine():
    assert parse_project_text(F, HEADER + agent("a", base_url='"http://10.0.0.1/llama"')).agents[0].base_url


@pytest.mark.parametrize(
    ("field", "value", "bound"),
    [("poll_interval", "86401", "from 1 to 86400 (a day)"), ("token_max_age_days", "3651", "from 1 to 3650")],
)
def test_agent_numbers_no_factory_means_are_refused_saying_the_bound(field, value, bound):
    """Issue 28 item 6."""
    problem = one_problem(HEADER + agent("a", **{field: value}))
    assert problem.startswith(f"{F}: agents.a.{field}: ") and bound in problem


def test_a_key_set_twice_is_named():
    """tomllib says only "Cannot overwrite a value": the line's key is named, and what to do."""
    text = HEADER + agent("a") + 'model = "other"\n'
    line = len(text.splitlines())
    with pytest.raises(ConfigError) as caught:
        parse_project_text(Path("p.toml"), text)
    assert caught.value.problems == [
        f"p.toml: line {line}: model is set twice in one table (TOML allows it once): keep one (column 16)"
    ]
