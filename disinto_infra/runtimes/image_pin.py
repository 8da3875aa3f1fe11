"""The agents' image as the docker runtime pulls it: always by registry digest, never by a tag alone.

The docker provider's RemoteImage looks its name up among the local images first and pulls only when
nothing local matches (`findImage`, internal/provider/resource_docker_image_funcs.go,
kreuzwerker/terraform-provider-docker v4.5.0 @ 5074970): an image pushed again under the same tag
would never reach an agent. So a tag is resolved to the digest the registry holds for it now, at
every `pulumi preview` and `up`, by the provider's `getRegistryImage` invoke (a HEAD of the manifest,
its `Docker-Content-Digest` header: data_source_docker_registry_image.go @ 5074970), and
`<repository>@<digest>` is what is pulled. A new digest renames the image (RemoteImage's `name` is
ForceNew), which pulls it, and the containers follow (their `image`, the pulled repo digest, is
ForceNew too). A name that holds a digest already (`repo@sha256:…`, `repo:tag@sha256:…`) is pinned:
no registry is asked, and only a new pin moves the agents.

A locally built image (the factory's build mode) has no registry digest: `<repo>@<digest>` finds
nothing and sends the engine to a registry. It is named by its image id, `sha256:<64 hex>`, which
the provider's image lookup inspects as it is and reads back unchanged (docs/decisions/local-agents-image.md).
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
