"""The model-server area of `check`: each server's state, the models it serves against its
agents' `model`, and its slots against its agents (the rule is model_servers/capacity.py's).

Problems: a server that does not answer or is still loading, one on the loopback (even answering), an agent whose `model` the server
does not serve (model_server.model_matches), and more agents than the server has slots.
"""

from __future__ import annotations

from disinto_infra.commands.check.facts import AgentOnServer, ServerFacts
from disinto_infra.config.project_toml import DEFAULT_MODEL, LOOPBACK_BASE_URL, is_loopback
from disinto_infra.model_servers import probe as model_server
from disinto_infra.model_servers.capacity import Assignment, over_capacity
from disinto_infra.model_servers.probe import ServerProbe, ServerState

LOOPBACK = "loopback"  # the state shown for a base_url on the loopback, whatever the probe found


def judge(assignment: Assignment, found: ServerProbe) -> ServerFacts:
    url = assignment.shown
    problems = []
    if found.state is ServerState.LOADING:
        problems.append(f"{url}: not ready: {found.detail}")
    elif not found.reachable:
        problems.append(f"{url}: {found.state.value}: {found.detail}")
    on_server = []
    for placed in assignment.agents:
        agent = placed.spec
        match = model_server.serves(found, agent.model) if found.models else None
        on_server.append(AgentOnServer(agent.name, agent.model, match))
        if match is False:
            placeholder = (
                " (the placeholder `hire` writes without --model: set the model)"
                if agent.model == DEFAULT_MODEL
                else ""
            )
            problems.append(
                f'{placed.file}: agents.{agent.name}.model: "{agent.model}", '
                f"but {url} serves {', '.join(found.models)}{placeholder}"
            )
    crowded = over_capacity(found.slots, [p.spec.name for p in assignment.agents])
    if crowded:
        problems.append(f"{url}: {crowded}")
    state, detail = found.state.value, found.detail
    if is_loopback(assignment.base_url):  # it may answer here, never in the agents' containers
        problems += [f"{p.file}: agents.{p.spec.name}.base_url: {url} {LOOPBACK_BASE_URL}" for p in assignment.agents]
        state, detail = LOOPBACK, "answers here, not from an agent's container" if found.reachable else detail
    return ServerFacts(url, state, detail, found.models, found.slots, found.source, tuple(on_server), tuple(problems))
