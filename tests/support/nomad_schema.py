"""The JSON schema our jobspecs are held to: Nomad's API types, closed to unknown keys.

Built from HashiCorp's OpenAPI spec of the Nomad HTTP API (`shared/nomad/openapi.yaml`: the
deprecated hashicorp/nomad-openapi v1 spec of 2023, see its SOURCE.md), cut down to the `Job`
schema and everything it references, every object closed (`additionalProperties: false`: Go's
decoder drops unknown keys silently, so a misspelt field must fail here instead), and extended
with the fields Nomad gained since, from the Go types of hashicorp/nomad's `api` package.
The result is vendored as tests/data/nomad/job.schema.json; regenerate with

    python -m tests.support.nomad_schema [path/to/openapi.yaml]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
OPENAPI = ROOT.parent / "shared" / "nomad" / "openapi.yaml"
SCHEMA = ROOT / "tests" / "data" / "nomad" / "job.schema.json"
REF_PREFIX = "#/components/schemas/"

# Fields newer than the 2023 spec, as the Go structs name and type them.
NEWER_FIELDS: dict[str, dict[str, Any]] = {
    # api/jobs.go, type Job: `NodePool *string` (node pools, Nomad 1.6).
    "Job": {"NodePool": {"type": "string"}},
    # api/tasks.go, type Vault: workload identity (Nomad 1.7) and later options.
    "Vault": {
        "Role": {"type": "string"},
        "Cluster": {"type": "string"},
        "DisableFile": {"type": "boolean"},
        "AllowTokenExpiration": {"type": "boolean"},
    },
    # api/tasks.go, type Template: `ErrMissingKey *bool`.
    "Template": {"ErrMissingKey": {"type": "boolean"}},
    # api/tasks.go, type VolumeRequest: `Sticky bool` (dynamic host volumes, Nomad 1.10).
    "VolumeRequest": {"Sticky": {"type": "boolean"}},
    # api/tasks.go, type Task: `Identity *WorkloadIdentity`, `Identities []*WorkloadIdentity` (Nomad 1.7).
    "Task": {
        "Identity": {"$ref": REF_PREFIX + "WorkloadIdentity"},
        "Identities": {"type": "array", "items": {"$ref": REF_PREFIX + "WorkloadIdentity"}},
    },
}
# Types newer than the 2023 spec. api/tasks.go (v1.10.0), type WorkloadIdentity: no json tags, so
# encoding/json uses the field names; TTL is a time.Duration (nanoseconds).
NEWER_TYPES: dict[str, dict[str, Any]] = {
    "WorkloadIdentity": {
        "type": "object",
        "properties": {
            "Name": {"type": "string"},
            "Audience": {"type": "array", "items": {"type": "string"}},
            "ChangeMode": {"type": "string"},
            "ChangeSignal": {"type": "string"},
            "Env": {"type": "boolean"},
            "File": {"type": "boolean"},
            "Filepath": {"type": "string"},
            "ServiceName": {"type": "string"},
            "TTL": {"type": "integer", "format": "int64"},
        },
    },
}
# Task.Config is a free map in the API; ours is always the docker driver's, narrowed to the keys of
# its config spec that we may set (hashicorp/nomad drivers/docker/config.go), so a typo fails too.
DOCKER_CONFIG = {
    "type": "object",
    "additionalProperties": False,
    "required": ["image"],
    "properties": {
        "image": {"type": "string"},
        "security_opt": {"type": "array", "items": {"type": "string"}},
        "force_pull": {"type": "boolean"},
        "entrypoint": {"type": "array", "items": {"type": "string"}},
    },
}


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"][len(REF_PREFIX) :]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def _closure(schemas: dict[str, Any], root: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen[name] = schemas[name]
            todo.extend(_refs(schemas[name]))
    return seen


def _close(node: Any) -> Any:
    """Every object with named properties refuses other keys; refs point into `$defs`."""
    if isinstance(node, dict):
        out = {k: _close(v) for k, v in node.items() if k != "nullable"}
        if isinstance(out.get("$ref"), str):
            out["$ref"] = "#/$defs/" + out["$ref"][len(REF_PREFIX) :]
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_close(v) for v in node]
    return node


def build(openapi: Path = OPENAPI) -> dict[str, Any]:
    schemas = yaml.safe_load(openapi.read_text(encoding="utf-8"))["components"]["schemas"]
    defs = {**_closure(schemas, "Job"), **NEWER_TYPES}
    for name, extra in NEWER_FIELDS.items():
        defs[name] = {**defs[name], "properties": {**defs[name]["properties"], **extra}}
    defs["Task"] = {**defs["Task"], "properties": {**defs["Task"]["properties"], "Config": DOCKER_CONFIG}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": "Generated by tests/support/nomad_schema.py; do not edit.",
        "type": "object",
        "additionalProperties": False,
        "required": ["Job"],
        "properties": {"Job": {"$ref": "#/$defs/Job"}},
        "$defs": _close(defs),
    }


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else OPENAPI
    SCHEMA.write_text(json.dumps(build(source), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {SCHEMA} from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
