"""Check requests and responses against Forgejo's own Swagger 2.0 description.

The spec (``swagger-v11.0.15.json``) is loaded once per path and cached. Each request is
matched to an operation (method + path template under ``basePath``); its JSON body is
validated against the body parameter's schema, its integer/required query parameters are
checked, and each 2xx response body is validated against that status's response schema.
Schemas are validated with jsonschema's Draft4Validator through a ``referencing`` registry
holding the whole spec document, so ``$ref: #/definitions/...`` resolves inside it.
Swagger ``format``s are not checked. Violations come back as readable strings.

Two checks go beyond the spec, which sets no ``additionalProperties: false`` and no ``required``
response fields:

* a request body may hold only keys its schema declares, at every depth: Forgejo's Go structs drop
  unknown JSON keys, so a misspelt key (``must_change_pasword``) would silently do nothing;
* a success response must hold every field the providers read from it (``READ_FIELDS``, by
  operationId, taken from ``disinto_infra/forgejo/*.py``): the double may not answer less than
  Forgejo does and let a provider's fallback hide it.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_FILE = "swagger-v11.0.15.json"
_BASE_URI = "https://forgejo-double.invalid/swagger-v11.json"
# Forgejo routes these parameters with "*": they may contain slashes.
_GREEDY_PARAMS = {"filepath", "branch"}
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")

# What the providers read from each success answer (dotted: a nested field). Keep in step with
# disinto_infra/forgejo/{user,token,collaborator,profile_repo}.py.
READ_FIELDS: dict = {
    "adminCreateUser": ("id",),  # user.py _create
    "adminEditUser": ("id",),  # user.py _adopt
    "userGet": ("id", "is_admin", "email", "full_name"),  # user.py _lookup, read
    "userGetCurrent": ("login",),  # token.py _authenticates
    "userCreateToken": ("id", "sha1", "name", "scopes", "token_last_eight"),  # token.py create
    "repoGetRepoPermissions": ("permission",),  # collaborator.py read
    "adminCreateRepo": ("id",),  # profile_repo.py _ensure_repo
    "repoGet": ("id",),  # profile_repo.py _ensure_repo, read
    "repoGetContents": ("type", "content", "sha"),  # profile_repo.py _read_file
    "repoCreateFile": ("content.sha",),  # profile_repo.py _ensure_file
    "repoUpdateFile": ("content.sha",),  # profile_repo.py _put_file
}


def find_spec_path():
    """FORGEJO_SWAGGER_SPEC, else a copy beside this package, else the shared folder next to the
    checkout, as CI lays it out."""
    env = os.environ.get("FORGEJO_SWAGGER_SPEC")
    here = Path(__file__).resolve()
    repo_root = here.parents[3]
    candidates = [Path(env)] if env else []
    candidates += [
        here.parent / SPEC_FILE,
        repo_root / "shared" / "forgejo" / SPEC_FILE,
        repo_root.parent / "shared" / "forgejo" / SPEC_FILE,
    ]
    for cand in candidates:
        if cand.is_file():
            return str(cand)
    return None


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class _Operation:
    def __init__(self, template: str, method: str, op: dict, pointer: str):
        self.template = template
        self.method = method.upper()
        self.op = op
        self.pointer = pointer  # JSON pointer of the operation object
        self.op_id = op.get("operationId", f"{method} {template}")
        parts = [p for p in template.split("/") if p]
        regex = []
        self.literals = 0
        for i, part in enumerate(parts):
            m = re.fullmatch(r"\{(\w+)\}", part)
            if m:
                greedy = m.group(1) in _GREEDY_PARAMS and i == len(parts) - 1
                regex.append("(.+)" if greedy else "([^/]+)")
            else:
                regex.append(re.escape(part))
                self.literals += 1
        self.regex = re.compile("^/" + "/".join(regex) + "$")
        self.params = op.get("parameters", [])


class SpecChecker:
    def __init__(self, spec_path=None):
        self.spec_path = spec_path or find_spec_path()
        if not self.spec_path:
            raise FileNotFoundError(f"{SPEC_FILE} not found: set FORGEJO_SWAGGER_SPEC or put it beside the package")
        self.spec, self.registry, self.operations = _load(self.spec_path)
        self.base_path = self.spec.get("basePath", "/api/v1")

    # matching ----------------------------------------------------------------
    def find(self, method: str, path: str):
        """The operation for ``path`` (full path, with basePath), or None."""
        if not path.startswith(self.base_path + "/"):
            return None
        sub = path[len(self.base_path) :]
        best = None
        for op in self.operations.get(method.upper(), ()):
            if op.regex.match(sub) and (best is None or op.literals > best.literals):
                best = op
        return best

    # validation --------------------------------------------------------------
    def _validate(self, pointer: str, instance) -> list:
        validator = _validator(self.spec_path, pointer)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        out = []
        for err in errors[:5]:
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            out.append(f"{where}: {err.message}")
        return out

    def check_request(self, method: str, path: str, query: dict, body_bytes: bytes):
        """-> (operation or None, [violation strings])."""
        label = f"{method} {path}"
        op = self.find(method, path)
        if op is None:
            return None, [f"{label}: no operation in the spec for this method and path"]
        violations = []
        body_param = None
        for idx, param in enumerate(op.params):
            where = param.get("in")
            if where == "body":
                body_param = (idx, param)
            elif where == "query":
                name = param.get("name")
                if param.get("required") and name not in query:
                    violations.append(f"{label} ({op.op_id}): required query parameter {name!r} missing")
                if name in query and param.get("type") == "integer" and not re.fullmatch(r"[+-]?\d+", str(query[name])):
                    violations.append(
                        f"{label} ({op.op_id}): query parameter {name!r}={query[name]!r} is not an integer"
                    )
        has_body = bool(body_bytes and body_bytes.strip())
        if body_param is None:
            if has_body:
                violations.append(f"{label} ({op.op_id}): request body sent but the operation takes none")
            return op, violations
        idx, param = body_param
        if not has_body:
            if param.get("required"):
                violations.append(f"{label} ({op.op_id}): required body parameter {param.get('name')!r} missing")
            return op, violations
        try:
            body = json.loads(body_bytes)
        except ValueError as exc:
            violations.append(f"{label} ({op.op_id}): request body is not JSON ({exc})")
            return op, violations
        pointer = f"{op.pointer}/parameters/{idx}/schema"
        for msg in self._validate(pointer, body):
            violations.append(f"{label} ({op.op_id}): request body {msg}")
        for where in _undeclared_keys(self.spec, param.get("schema", {}), body, ""):
            violations.append(
                f"{label} ({op.op_id}): request body key {where!r} is not in the spec (Forgejo would ignore it)"
            )
        return op, violations

    def check_response(self, op, method: str, path: str, status: int, body) -> list:
        """Validate a 2xx response body; other statuses are not checked."""
        if op is None or not 200 <= status < 300:
            return []
        label = f"{method} {path} -> {status}"
        responses = op.op.get("responses", {})
        key = str(status) if str(status) in responses else ("default" if "default" in responses else None)
        if key is None:
            return [f"{label} ({op.op_id}): status {status} is not documented for this operation"]
        pointer = f"{op.pointer}/responses/{key}"
        resp = responses[key]
        while "$ref" in resp:
            ref = resp["$ref"]
            pointer = ref[1:]
            resp = _resolve_local(self.spec, ref)
        schema = resp.get("schema")
        if schema is None:
            if body not in (None, b"", ""):
                return [f"{label} ({op.op_id}): response has a body but the spec declares none"]
            return []
        if body is None:
            return [f"{label} ({op.op_id}): response has no JSON body but the spec declares a schema"]
        # Forgejo answers GET contents/{dir} with a list; the spec only knows the file form.
        if op.op_id == "repoGetContents" and isinstance(body, list):
            out = []
            for i, item in enumerate(body):
                out += [f"{label} ({op.op_id}): [{i}] {m}" for m in self._validate(pointer + "/schema", item)]
            return out
        out = [f"{label} ({op.op_id}): response {m}" for m in self._validate(pointer + "/schema", body)]
        return out + [
            f"{label} ({op.op_id}): response lacks {field!r}, which a provider reads"
            for field in missing_read_fields(op.op_id, body)
        ]


def missing_read_fields(op_id: str, body) -> list:
    """The fields of READ_FIELDS[op_id] that `body` lacks (or holds as null)."""
    missing = []
    for field in READ_FIELDS.get(op_id, ()):
        node = body
        for part in field.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            missing.append(field)
    return missing


def _undeclared_keys(spec: dict, schema: dict, instance, where: str) -> list:
    """Paths of keys in `instance` that `schema` (refs resolved) does not declare."""
    while isinstance(schema, dict) and "$ref" in schema:
        schema = _resolve_local(spec, schema["$ref"])
    if not isinstance(schema, dict):
        return []
    if isinstance(instance, list):
        items = schema.get("items", {})
        return [p for i, v in enumerate(instance) for p in _undeclared_keys(spec, items, v, f"{where}[{i}]")]
    props = schema.get("properties")
    if not isinstance(instance, dict) or props is None or schema.get("additionalProperties"):
        return []
    out = []
    for key, value in instance.items():
        path = f"{where}.{key}" if where else key
        out += _undeclared_keys(spec, props[key], value, path) if key in props else [path]
    return out


def _resolve_local(spec: dict, ref: str):
    node = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@functools.cache
def _load(spec_path: str):
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    registry = Registry().with_resource(_BASE_URI, Resource.from_contents(spec, default_specification=DRAFT4))
    operations: dict = {}
    for template, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method not in _METHODS:
                continue
            pointer = f"/paths/{_escape(template)}/{method}"
            operations.setdefault(method.upper(), []).append(_Operation(template, method, op, pointer))
    return spec, registry, operations


@functools.cache
def _validator(spec_path: str, pointer: str) -> Draft4Validator:
    _, registry, _ = _load(spec_path)
    return Draft4Validator({"$ref": f"{_BASE_URI}#{pointer}"}, registry=registry)


def load_spec(spec_path=None) -> dict:
    """The parsed swagger document (cached)."""
    return _load(spec_path or find_spec_path())[0]
