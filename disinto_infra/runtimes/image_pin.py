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
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi_docker as docker

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
RESOLVED_AT_UP = "resolved from the registry at pulumi preview/up"


def repository(name: str) -> str:
    """The name without tag or digest (`host:5000/org/img:tag` -> `host:5000/org/img`)."""
    base = name.split("@", 1)[0]
    head, _, last = base.rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


def pinned_digest(name: str) -> str | None:
    """The digest a name pins (`…@sha256:<64 hex>`), else None."""
    _, at, digest = name.partition("@")
    return digest if at and DIGEST.fullmatch(digest) else None


def digest_problem(name: str) -> str | None:
    """Why a name's digest part cannot be pulled (None: no digest, or a good one)."""
    if "@" in name and pinned_digest(name) is None:
        return "must end in @sha256: and 64 lowercase hex digits when it names a digest"
    return None


@dataclass(frozen=True)
class ImageChoice:
    """The configured image and the digest the agents will run, when known before `up`."""

    name: str  # `disinto:agentImage` as configured

    @property
    def digest(self) -> str | None:
        return pinned_digest(self.name)

    def describe(self) -> str:
        """How `plan` names it: the pinned digest, or where the digest will come from."""
        if self.digest:
            return f"{repository(self.name)}@{self.digest} (pinned)"
        return f"{self.name} (digest {RESOLVED_AT_UP})"


def pull_name(name: str) -> str:
    """What RemoteImage pulls: `<repository>@<digest>`, from the pin or from the registry now.

    The invoke runs while the program runs, in a preview too, so an unknown tag or an unreachable
    registry fails `pulumi preview` before anything is registered.
    """
    digest = pinned_digest(name) or docker.get_registry_image(name=name).sha256_digest
    return f"{repository(name)}@{digest}"
