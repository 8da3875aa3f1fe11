"""The Pulumi program: read the stack config, validate the project TOMLs, build the agents.

Validation runs before any resource is registered: a bad file fails `pulumi preview` with one
line per problem and changes nothing.
"""

from pathlib import Path

import pulumi

from disinto_infra.config.project_toml import ConfigError
from disinto_infra.factory.formulas import load_fleet_and_formulas
from disinto_infra.program.build import build_fleet
from disinto_infra.program.stack_config import running_stack_settings

try:
    settings = running_stack_settings(Path(__file__).resolve().parent)
    fleet, formulas = load_fleet_and_formulas(settings, f"Pulumi.{pulumi.get_stack()}.yaml")
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None

# Only `pulumi up` asks the model servers about their slots: a preview stays offline.
build_fleet(settings, fleet, pulumi.get_stack(), formulas, probe_servers=not pulumi.runtime.is_dry_run())
