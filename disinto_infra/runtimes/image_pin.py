"""The agents' image as the docker runtime pulls it: always by registry digest, never by a tag alone.

The provider would use a local image of the same tag and never pull again, so a tag is resolved to
the registry's digest at every `preview` and `up`, and `<repository>@<digest>` is pulled; a new
digest replaces the image and the containers. A name holding a digest is pinned and asks no
registry. A locally built image has no registry digest and is named by its image id.
Why: docs/decisions/image-by-digest.md, docs/decisions/local-agents-image.md
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_docker as docker

from disinto_infra.config.image_name import local_image_id, pinned_digest, repository

RESOLVED_AT_UP = "resolved from the registry at pulumi preview/up"


@dataclass(frozen=True)
class ImageChoice:
    """The configured image and the digest the agents will run, when known before `up`."""

    name: str  # `disinto:agentImage` as configured

    @property
    def digest(self) -> str | None:
        return pinned_digest(self.name) or local_image_id(self.name)

    def describe(self) -> str:
        """How `plan` names it: the pinned digest, the local image id, or where the digest will come from."""
        if local_image_id(self.name):
            return f"{self.name} (a local image by id: no registry is asked; it must be on the Docker host)"
        if self.digest:
            return f"{repository(self.name)}@{self.digest} (pinned)"
        return f"{self.name} (digest {RESOLVED_AT_UP})"


def pull_name(name: str) -> str:
    """What RemoteImage pulls: `<repository>@<digest>`, from the pin or from the registry now.

    The invoke runs while the program runs, in a preview too, so an unknown tag or an unreachable
    registry fails `pulumi preview` before anything is registered.
    """
    if local_image_id(name):
        return name
    digest = pinned_digest(name) or docker.get_registry_image(name=name).sha256_digest
    return f"{repository(name)}@{digest}"
