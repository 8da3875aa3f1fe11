"""The recorded plans: every registration the real program makes for a fixed factory, as JSON.

`tests/data/plans/docker.json` is the plan of a `docker` stack. A test holds the program to it byte
for byte, so a refactoring cannot move a single URN, input or option of an existing stack unseen.
A deliberate change regenerates it in a commit of its own, saying why:

    python -m tests.support.record_plan

What is recorded per registration is the request the engine would get (protobuf field names), less
what names places in our source (`sourcePosition`, stack traces) and with dependency lists sorted
(their order is the order futures resolved). Inputs are the wire form: a secret shows as Pulumi's
secret envelope around its (fake, deterministic) value, so secrecy is part of the record too.
The checkout's own folder (the commands' PYTHONPATH) is recorded as `<checkout>`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from disinto_infra.config.project_toml import Fleet, parse_project_text
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.factory.env_export import PROJECT_ROOT
from disinto_infra.factory.formulas import Formula
from disinto_infra.program.build import build_fleet
from disinto_infra.program.plan import Registration, run_with_mocks
from tests.support.factory import FORMULAS

PLANS = Path(__file__).resolve().parent.parent / "data" / "plans"
PROJECT = PLANS / "project.toml"
# Fixed paths, so the record does not depend on where the checkout is.
FACTORY_ROOT = "/opt/factory"
STACK = "dev"
# Every plan sets envFile, so the `.env` export is part of the record.
BASE_SETTINGS: dict[str, Any] = {
    "projectToml": f"{FACTORY_ROOT}/projects/*.toml",
    "factoryRoot": FACTORY_ROOT,
    "envFile": f"{FACTORY_ROOT}/.env",
}
# Per runtime: the settings on top of BASE_SETTINGS.
RUNTIMES: dict[str, dict[str, Any]] = {"docker": {}, "nomad": {"runtime": "nomad", "nomadNodePool": "agents"}}
CHECKOUT = "<checkout>"
LEFT_OUT = ("object", "sourcePosition", "stackTrace", "parentStackTraceHandle")


def golden_path(runtime: str) -> Path:
    return PLANS / f"{runtime}.json"


def settings(runtime: str) -> StackSettings:
    return StackSettings.from_mapping({**BASE_SETTINGS, **RUNTIMES[runtime]}, Path("/srv/infra"), home="/home/op")


def fleet() -> Fleet:
    project = parse_project_text(Path(f"{FACTORY_ROOT}/projects/disinto.toml"), PROJECT.read_text(encoding="utf-8"))
    return Fleet(projects=(project,))


def formulas(agents: Fleet) -> dict[str, Formula]:
    text = (FORMULAS / "dev.toml").read_text(encoding="utf-8")
    return {spec.name: Formula(Path(f"{FACTORY_ROOT}/formulas/dev.toml"), text) for _, spec in agents.agents()}


def registration(r: Registration) -> dict[str, Any]:
    fields = json_format.MessageToDict(r.request, preserving_proto_field_name=True)
    for key in LEFT_OUT:
        fields.pop(key, None)
    if "dependencies" in fields:
        fields["dependencies"] = sorted(fields["dependencies"])
    for deps in fields.get("propertyDependencies", {}).values():
        deps["urns"] = sorted(deps.get("urns", []))
    return {"urn": r.urn, "request": fields, "inputs": json_format.MessageToDict(r.request.object)}


def record(runtime: str = "docker") -> str:
    """The plan of the fixed factory on a `runtime` stack, as the JSON text of its golden file."""
    stack_settings, agents = settings(runtime), fleet()
    run = run_with_mocks(
        lambda: build_fleet(stack_settings, agents, STACK, formulas(agents), warn=lambda _: None), stack=STACK
    )
    exports = {name: {"value": e.value, "secret": e.secret} for name, e in sorted(run.exports.items())}
    plan = {"registrations": [registration(r) for r in run.registrations], "exports": exports}
    text = json.dumps(plan, indent=1, sort_keys=True) + "\n"
    return text.replace(json.dumps(PROJECT_ROOT)[1:-1], CHECKOUT)


def main(argv: list[str]) -> int:
    for runtime in argv or list(RUNTIMES):
        golden_path(runtime).write_text(record(runtime), encoding="utf-8")
        print(f"wrote {golden_path(runtime)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
