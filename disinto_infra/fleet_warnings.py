"""What a valid fleet asks for that works but is worth a second look: `validate` and `plan` print these.

Each names the file, the agent and the field, why it matters, and what to write instead.
"""

from __future__ import annotations

from disinto_infra import naming
from disinto_infra.config import token_scopes
from disinto_infra.config.project_toml import LOOPBACK_BASE_URL, Fleet, is_loopback
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.url_mask import mask_credentials


def fleet_warnings(fleet: Fleet, settings: StackSettings, stack_file: str) -> list[str]:
    found = []
    for project, agent in fleet.agents():
        where = f"{project.path}: agents.{agent.name}"
        if clash := naming.factory_bot_clash(agent.forge_user):
            found.append(
                f"{where}.forge_user: {clash} (an agent without forge_user is <name>-bot). Set forge_user to a name "
                f"of this agent's own, unless this program is meant to take that bot over from `disinto init`"
            )
        if is_loopback(agent.base_url):
            found.append(f"{where}.base_url: {mask_credentials(agent.base_url)} {LOOPBACK_BASE_URL}")
        least = ", ".join(token_scopes.for_roles(agent.roles))
        for why in token_scopes.broad(agent.token_scopes or ()):
            found.append(f"{where}.token_scopes: {why}. Its roles need only {least}: leave token_scopes out for that")
    if settings.runtime == "docker" and is_loopback(settings.forge_internal_url):
        found.append(
            f"{stack_file}: disinto:forgeInternalUrl: {mask_credentials(settings.forge_internal_url)} names the "
            "loopback, which inside an agent's container is the container itself: give the address the containers "
            f"reach Forgejo at on the agents' network (the factory's compose service: "
            f"{StackSettings.model_fields['forge_internal_url'].default})"
        )
    for why in token_scopes.broad(settings.token_scopes or ()):
        found.append(
            f"{stack_file}: disinto:tokenScopes: {why}. Each agent's roles decide the least it needs when the "
            f"setting is left out: `pulumi config rm disinto:tokenScopes`"
        )
    return found
