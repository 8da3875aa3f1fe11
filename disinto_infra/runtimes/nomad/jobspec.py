"""A Nomad job in the shape of Nomad's HTTP API (JSON), from typed parts.

Field names are the Go field names of Nomad's `api` package, because that is what
`nomad.Job(json=True)` decodes the jobspec into; Go would silently drop a misspelt one, so the tests
hold this output to a JSON schema of those types (tests/data/nomad/). Durations are nanoseconds, as
in the API. None means "not set" and is left out. Why: docs/decisions/nomad-job-shape.md
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields

from disinto_infra.parsed import JsonObject

SECOND = 1_000_000_000  # time.Duration is nanoseconds


def nanoseconds(n: int) -> int:
    """Whole seconds as Nomad's API takes a duration (Go's time.Duration: nanoseconds)."""
    return n * SECOND


class _ApiObject:
    """Serialises a dataclass to the API's JSON: field names as they are, None left out."""

    def to_api(self) -> JsonObject:
        out: JsonObject = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = _api_value(getattr(self, f.name))
            if value is not None:
                out[f.name] = value
        return out


def _api_value(value: object) -> object:
    if isinstance(value, _ApiObject):
        return value.to_api()
    if isinstance(value, (list, tuple)):
        return [_api_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _api_value(v) for k, v in value.items()}
    return value


# Go's names are the contract here, not PEP 8.


@dataclass(frozen=True)
class Constraint(_ApiObject):
    LTarget: str
    RTarget: str
    Operand: str = "="


@dataclass(frozen=True)
class RestartPolicy(_ApiObject):
    Attempts: int
    Interval: int
    Delay: int
    Mode: str


@dataclass(frozen=True)
class VolumeRequest(_ApiObject):
    Name: str
    Type: str
    Source: str
    ReadOnly: bool = False
    AccessMode: str | None = None
    AttachmentMode: str | None = None


@dataclass(frozen=True)
class VolumeMount(_ApiObject):
    Volume: str
    Destination: str
    ReadOnly: bool = False


@dataclass(frozen=True)
class WaitConfig(_ApiObject):
    Min: int  # nanoseconds
    Max: int


@dataclass(frozen=True)
class Template(_ApiObject):
    DestPath: str
    EmbeddedTmpl: str
    Envvars: bool = False
    ChangeMode: str = "restart"
    Wait: WaitConfig | None = None


@dataclass(frozen=True)
class Vault(_ApiObject):
    Role: str
    Env: bool | None = None
    DisableFile: bool | None = None
    ChangeMode: str | None = None


@dataclass(frozen=True)
class WorkloadIdentity(_ApiObject):
    """The API's WorkloadIdentity: its JSON keys are the Go field names (`Audience`, `TTL`), not the
    HCL jobspec's `aud` / `ttl`."""

    Name: str
    Audience: list[str]
    TTL: int  # nanoseconds


@dataclass(frozen=True)
class Resources(_ApiObject):
    CPU: int
    MemoryMB: int


@dataclass(frozen=True)
class DockerConfig(_ApiObject):
    """The docker driver's `config` (Task.Config is a free map; these are the driver's keys)."""

    image: str
    security_opt: list[str] = field(default_factory=list)
    entrypoint: list[str] | None = None


@dataclass(frozen=True)
class Task(_ApiObject):
    Name: str
    Driver: str
    Config: DockerConfig
    Env: dict[str, str]
    Templates: list[Template]
    Vault: Vault | None
    VolumeMounts: list[VolumeMount]
    Resources: Resources
    Identities: list[WorkloadIdentity] | None = None
    KillTimeout: int | None = None  # nanoseconds; the client caps it at its max_kill_timeout


@dataclass(frozen=True)
class TaskGroup(_ApiObject):
    Name: str
    Count: int
    RestartPolicy: RestartPolicy
    Volumes: dict[str, VolumeRequest]
    Tasks: list[Task]


@dataclass(frozen=True)
class Job(_ApiObject):
    ID: str
    Name: str
    Namespace: str
    Type: str
    Datacenters: list[str]
    TaskGroups: list[TaskGroup]
    NodePool: str | None = None
    Constraints: list[Constraint] | None = None
    Meta: dict[str, str] | None = None

    def jobspec(self) -> str:
        """The JSON `nomad.Job(json=True)` takes: `{"Job": …}`, as `nomad job run -output` prints."""
        return json.dumps({"Job": self.to_api()}, indent=2, sort_keys=True)
