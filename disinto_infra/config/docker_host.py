"""Where the Docker host is, and which host paths the stack may name for it.

Bind sources are paths on the Docker host: Docker takes only absolute ones, and `~` or a relative
path is resolved on the machine that runs Pulumi, which is right only when the Docker host is this
machine. The host the provider talks to: `docker:host`, else `DOCKER_HOST`, else the local socket.
Why: docs/decisions/docker-host-paths.md
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from disinto_infra.config.project_toml import show

LOCAL_SCHEMES = frozenset({"unix", "npipe"})
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
# The settings that name bind sources (claudeSharedDir is the container path as well).
BIND_KEYS = ("claudeSharedDir", "claudeConfigFile", "sshDir")


def effective_host(configured: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The Docker host the provider will use: `docker:host`, else DOCKER_HOST; None: the local socket."""
    environ = os.environ if environ is None else environ
    return configured or environ.get("DOCKER_HOST") or None


def is_local(host: str | None) -> bool:
    """Is the Docker host this machine (a socket, or a TCP/SSH address of this machine)?"""
    if not host:
        return True
    parts = urlsplit(host)
    return parts.scheme in LOCAL_SCHEMES or (parts.hostname or "") in LOCAL_NAMES


@dataclass(frozen=True)
class PathProblem:
    key: str  # the disinto:* setting
    message: str


def _is_home_relative(path: str) -> bool:
    return path.startswith("~")


def path_problems(
    values: Mapping[str, str | None],
    given: Collection[str],
    host: str | None,
    expand_home: Callable[[str], str],
) -> list[PathProblem]:
    """Each bind-source setting the provider or the Docker host would get wrong.

    `values`: the settings, defaults included (camelCase keys, before `~` is expanded); `expand_home`
    turns a `~` path into the Pulumi user's path (what the local case does with it); `given`: the
    keys the stack sets (the others are named as defaults)."""
    local = is_local(host)
    problems: list[PathProblem] = []
    for key in BIND_KEYS:
        value = values.get(key)
        if value is None:
            continue
        shown = show(value) if key in given else f"the default {show(value)}"
        if not local and _is_home_relative(value):
            problems.append(PathProblem(key, _remote_home(shown, host)))
        elif not os.path.isabs(expand_home(value)):
            inside = " (it is the path inside the container too)" if key == "claudeSharedDir" else ""
            problems.append(
                PathProblem(key, f"must be an absolute path{inside}: Docker refuses a relative bind path, not {shown}")
            )
    if not local:
        problems += _remote_factory_root(values, host)
    return problems


def _remote_home(shown: str, host: str | None) -> str:
    return (
        f"{shown}: `~` would be expanded on this machine, but the Docker host is {host}; "
        "give the absolute path on that host"
    )


def _remote_factory_root(values: Mapping[str, str | None], host: str | None) -> list[PathProblem]:
    root, pattern = values.get("factoryRoot"), values.get("projectToml") or ""
    if root:
        if _is_home_relative(root):
            return [PathProblem("factoryRoot", _remote_home(show(root), host))]
        if not os.path.isabs(root):
            return [
                PathProblem(
                    "factoryRoot",
                    f"{show(root)} is relative to this project folder, but the Docker host is "
                    f"{host}; give the factory's absolute path on that host",
                )
            ]
        return []
    if _is_home_relative(pattern) or not os.path.isabs(pattern):
        return [
            PathProblem(
                "factoryRoot",
                f"unset, so it would come from projectToml {show(pattern)}, a path "
                f"on this machine, but the Docker host is {host}; set the factory's "
                "absolute path on that host",
            )
        ]
    return []
