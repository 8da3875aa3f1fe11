"""Engine-side test harness: drive the real Python dynamic-provider host the way the Pulumi engine does.

`Host` starts `python -u -m pulumi.dynamic` (what the engine's `pulumi-resource-pulumi-python` shim runs), reads
the port it prints, connects a `ResourceProviderStub` and sends `Configure` with the stack config.

`Engine(host)` plays the engine's step generator/executor over several runs with a persistent state
(`engine.state`), following the engine's Go sources
(`step_generator.go`, `provider_plugin.go`):

* every property bag goes through the SDK's own wire encoding (`rpc.serialize_properties` /
  `rpc.deserialize_properties`), so ``None`` values disappear and ints come back as floats;
* the host answers ``acceptSecrets=False`` to Configure, so, like the engine, secret values are sent *plain*
  to resource calls and the secret bit is re-attached engine-side to properties of the same name
  (`annotateSecrets`); config sent to Configure keeps its secret wrapping (the host unwraps it);
* create-before-delete replacement defers the Delete of the old object to the deletion phase at the end of
  the run (the engine's `GenerateDeletes`), deletions run dependents first (`ScheduleDeletes`);
* a delete-before-replace first deletes the dependents that must be replaced too
  (`calculateDependentReplacements`): each dependent whose inputs come from a replaced resource is asked
  `Diff` with those inputs unknown, and those answering with replacements are deleted, dependents first;
  when the run reaches them they are re-created without a `Diff` (the engine's "recreating" case).

What to run comes either from hand-written `Res` declarations (the harness's own tests, with
`tests/support/toy_provider.py`) or from the program itself: `tests/support/registrations.py` turns what
the real program registered under the recording mocks into `Res`, with its options and `__provider`.
"""

from __future__ import annotations

import asyncio
import copy
import os
import select
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

REPO_ROOT = Path(__file__).resolve().parents[2]
UNKNOWN = rpc.UNKNOWN  # "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
PROVIDER_KEY = "__provider"
DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"  # type token of pulumi.dynamic.Resource subclasses

_DIFF_UNKNOWN = provider_pb2.DiffResponse.DIFF_UNKNOWN
_DIFF_NONE = provider_pb2.DiffResponse.DIFF_NONE
_DIFF_SOME = provider_pb2.DiffResponse.DIFF_SOME


# --------------------------------------------------------------------------------------------- declarations
@dataclass(frozen=True)
class Secret:
    """Marks a declared input (or a config value given to `Host`) as secret."""

    value: Any


@dataclass(frozen=True)
class Ref:
    """An input taken from output `key` of resource `name` in the current run (an `Output` in a program)."""

    name: str
    key: str


@dataclass
class Res:
    """One resource registration of a run, with the resource options the engine acts on."""

    name: str
    provider_obj: Any  # pickled here; or None with `provider_blob`
    inputs: dict
    depends_on: Iterable[str] = ()
    additional_secret_outputs: Iterable[str] = ()
    delete_before_replace: bool | None = None  # None = not set: the provider's answer decides
    retain_on_delete: bool = False
    replace: bool = False  # `pulumi up --replace <urn>`
    ignore_changes: Iterable[str] = ()  # top-level keys only
    type: str = DYNAMIC_TYPE
    replace_on_changes: Iterable[str] = ()  # top-level keys or "*"
    provider_blob: str | None = None  # the `__provider` the program registered (then provider_obj is None)
    parent: str = ""  # the parent's URN, as registered (not driven: components have no provider)


@dataclass
class ResourceState:
    """One resource in the engine's checkpoint; values are plain (already decoded from the wire)."""

    type: str
    id: str
    inputs: dict
    outputs: dict
    secret_outputs: set
    options: dict
    secret_inputs: set = field(default_factory=set)
    dependencies: list = field(default_factory=list)
    pending_replacement: bool = False  # deleted by a delete-before-replace whose create has not happened
    name: str = ""
    property_dependencies: dict = field(default_factory=dict)  # input key -> names of resources it came from


class ProviderError(Exception):
    """A gRPC call failed (the provider raised); `details` holds the host's traceback."""

    def __init__(self, method: str, name: str, details: str, code: Any = None):
        super().__init__(f"{method}({name}) failed: {details}")
        self.method, self.name, self.details, self.code = method, name, details, code


class CheckFailedError(ProviderError):
    """`check` returned failures: the engine reports them and stops the run."""

    def __init__(self, name: str, failures: list):
        super().__init__("Check", name, "; ".join(f"{p}: {r}" for p, r in failures))
        self.failures = failures


# ------------------------------------------------------------------------------------------------ wire codec
def _run_coro(coro):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def _to_wire(values: dict, secret_keys: set = frozenset(), keep_secrets: bool = False):
    props = {}
    for k, v in values.items():
        props[k] = rpc.wrap_rpc_secret(v) if (keep_secrets and k in secret_keys and v is not None) else v
    return _run_coro(rpc.serialize_properties(props, {}))


def _plain(value):
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _from_wire(struct) -> tuple[dict, set]:
    decoded = rpc.deserialize_properties(struct, keep_unknowns=True)
    values, secrets = {}, set()
    for k, v in decoded.items():
        if rpc.is_rpc_secret(v):
            secrets.add(k)
            v = rpc.unwrap_rpc_secret(v)
        values[k] = _plain(v)
    return values, secrets


def _contains_unknown(value) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    return False


# ------------------------------------------------------------------------------------------------------ host
class Host:
    """The dynamic-provider host process (one per deployment, shared by all dynamic resources)."""

    def __init__(
        self,
        config: dict | None = None,
        *,
        secret_keys: Iterable[str] = (),
        project: str = "disinto",
        repo_root: Path = REPO_ROOT,
        start_timeout: float = 30.0,
    ):
        self.config = dict(config or {})
        self.secret_keys = set(secret_keys)
        self.project, self.repo_root, self.start_timeout = project, Path(repo_root), start_timeout
        self.proc: subprocess.Popen | None = None
        self.channel = None
        self.stub = None
        self.port: int | None = None
        self.accept_secrets = False
        self.configure_response = None
        self._stderr_path: str | None = None
        self._stderr_cache: str | None = None
        self._stdout_chunks: list[bytes] = []
        self._drain: threading.Thread | None = None

    def start(self) -> Host:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(self.repo_root)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        )
        env["PULUMI_PROJECT"] = self.project
        fd, self._stderr_path = tempfile.mkstemp(prefix="dynamic-host-", suffix=".stderr")
        with os.fdopen(fd, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-u", "-m", "pulumi.dynamic"],
                cwd=self.repo_root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        ready, _, _ = select.select([self.proc.stdout], [], [], self.start_timeout)
        line = self.proc.stdout.readline() if ready else b""
        if not line.strip().isdigit():
            self.close()
            raise RuntimeError(f"provider host printed no port ({line!r}); stderr:\n{self.stderr_text()}")
        self.port = int(line)
        # Keep reading stdout as the engine does, so provider prints never block on a full pipe.
        self._drain = threading.Thread(target=self._drain_stdout, daemon=True)
        self._drain.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self.channel).result(timeout=self.start_timeout)
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        self.configure(self.config, self.secret_keys)
        return self

    def _drain_stdout(self):
        for chunk in iter(lambda: self.proc.stdout.read1(65536), b""):
            self._stdout_chunks.append(chunk)

    def configure(self, config: dict, secret_keys: Iterable[str] = ()):
        """Configure as the engine does: `args` keeps secrets wrapped, `variables` holds plain strings."""
        secret_keys = set(secret_keys)
        plain, secrets = {}, set()
        for k, v in config.items():
            if isinstance(v, Secret):
                v = v.value
                secrets.add(k)
            elif k in secret_keys:
                secrets.add(k)
            plain[k] = v
        req = provider_pb2.ConfigureRequest(
            variables={k: str(v) for k, v in plain.items() if v is not None},
            args=_to_wire(plain, secrets, keep_secrets=True),
            acceptSecrets=True,
            acceptResources=True,
            sends_old_inputs=True,
            sends_old_inputs_to_delete=True,
        )
        self.configure_response = self.stub.Configure(req, timeout=30)
        self.accept_secrets = bool(self.configure_response.acceptSecrets)
        return self.configure_response

    def stderr_text(self) -> str:
        if self._stderr_cache is not None:
            return self._stderr_cache
        if not self._stderr_path or not os.path.exists(self._stderr_path):
            return ""
        return Path(self._stderr_path).read_text(errors="replace")

    def stdout_text(self) -> str:
        return b"".join(self._stdout_chunks).decode(errors="replace")

    def close(self):
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(timeout=10)
            if self._drain is not None:
                self._drain.join(timeout=5)
            self.proc.stdout.close()
            self.proc = None
        if self._stderr_path and self._stderr_cache is None:
            self._stderr_cache = self.stderr_text()
            os.unlink(self._stderr_path)

    def __enter__(self) -> Host:
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------------------------------- engine
@dataclass
class _Run:
    preview: bool
    blobs: dict
    outputs: dict = field(default_factory=dict)  # name -> (values, secret keys, complete)
    ops: dict = field(default_factory=dict)
    recreating: set = field(default_factory=set)  # dependents deleted (or, in a preview, to be) by a DBR


class Engine:
    """Plays the Pulumi engine against a `Host` over several runs sharing one state."""

    def __init__(self, host: Host, *, stack: str = "test", project: str = "disinto", timeout: float = 60.0):
        self.host, self.stack, self.project, self.timeout = host, stack, project, timeout
        self.state: dict[str, ResourceState] = {}
        self.pending_deletes: list[ResourceState] = []  # create-before-delete olds not deleted yet
        self.calls: list[tuple[str, str]] = []
        self._run_start = 0
        self._lock = threading.RLock()

    # ------------------------------------------------------------------------------------------ public API
    def up(self, resources: list[Res]) -> dict:
        run = self._begin(resources, preview=False, ordered=True)
        for res in resources:
            run.ops[res.name] = self._step(res, run)
        self._delete_phase(self._condemned(resources), run, workers=1)
        return run.ops

    def concurrent_up(self, resources: list[Res], workers: int = 8) -> dict:
        run = self._begin(resources, preview=False, ordered=False)
        deps = {r.name: self._deps_of(r) for r in resources}
        pending, running, done, errors = list(resources), {}, set(), []
        with ThreadPoolExecutor(max_workers=workers) as pool:
            while pending or running:
                if not errors:
                    for r in [r for r in pending if deps[r.name] <= done]:
                        pending.remove(r)
                        running[pool.submit(self._step, r, run)] = r
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    r = running.pop(fut)
                    try:
                        run.ops[r.name] = fut.result()
                        done.add(r.name)
                    except Exception as e:
                        errors.append(e)
        if errors:
            raise errors[0]
        self._delete_phase(self._condemned(resources), run, workers=workers)
        return run.ops

    def preview(self, resources: list[Res]) -> dict:
        run = self._begin(resources, preview=True, ordered=True)
        for res in resources:
            run.ops[res.name] = self._step(res, run)
        declared = {r.name for r in resources}
        for name in self.state:
            if name not in declared:
                run.ops[name] = "delete"
        return run.ops

    def refresh(self, only: Iterable[str] | None = None) -> dict:
        """`pulumi refresh` (with `only`: `--target` those resources)."""
        self._run_start = len(self.calls)
        ops = {}
        for name, old in list(self.state.items()):
            if only is not None and name not in only:
                continue
            req = provider_pb2.ReadRequest(
                id=old.id,
                urn=self._urn(old.type, name),
                name=name,
                type=old.type,
                properties=self._wire(old.outputs, old.secret_outputs),
                inputs=self._wire(old.inputs, old.secret_inputs),
            )
            resp = self._call("Read", name, req)
            if not resp.id:
                with self._lock:
                    del self.state[name]
                ops[name] = "delete"
                continue
            outs, osecs = _from_wire(resp.properties)
            if not self.host.accept_secrets:
                osecs |= {k for k in old.secret_outputs if k in outs}
            inputs, isecs = old.inputs, old.secret_inputs
            if resp.HasField("inputs"):
                inputs, isecs = _from_wire(resp.inputs)
                if not self.host.accept_secrets:
                    isecs |= {k for k in old.secret_inputs if k in inputs}
            new = ResourceState(
                old.type,
                resp.id,
                inputs,
                outs,
                osecs,
                old.options,
                isecs,
                list(old.dependencies),
                old.pending_replacement,
                name,
                dict(old.property_dependencies),
            )
            ops[name] = "same" if (outs, resp.id) == (old.outputs, old.id) else "update"
            with self._lock:
                self.state[name] = new
        return ops

    def destroy(self) -> dict:
        run = _Run(preview=False, blobs={})
        self._run_start = len(self.calls)
        self._delete_phase(list(self.state.values()) + list(self.pending_deletes), run, workers=1)
        return run.ops

    def outputs(self, name: str) -> dict:
        return {k: copy.deepcopy(v) for k, v in self.state[name].outputs.items() if k != PROVIDER_KEY}

    def last_run_calls(self) -> list[tuple[str, str]]:
        return list(self.calls[self._run_start :])

    # ------------------------------------------------------------------------------------------- plumbing
    def _urn(self, typ: str, name: str) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{typ}::{name}"

    def _wire(self, values: dict, secrets: set):
        return _to_wire(values, secrets, keep_secrets=self.host.accept_secrets)

    def _call(self, method: str, name: str, req):
        with self._lock:
            self.calls.append((method, name))
        try:
            return getattr(self.host.stub, method)(req, timeout=self.timeout)
        except grpc.RpcError as e:
            raise ProviderError(method, name, e.details() or "", e.code()) from None

    def _annotate(self, outs: dict, osecs: set, input_secrets: set, res: Res) -> set:
        if not self.host.accept_secrets:
            osecs = osecs | {k for k in input_secrets if k in outs}
        return osecs | {k for k in res.additional_secret_outputs if k in outs}

    @staticmethod
    def _refs_in(value) -> set:
        if isinstance(value, Ref):
            return {value.name}
        if isinstance(value, Secret):
            return Engine._refs_in(value.value)
        if isinstance(value, dict):
            return set().union(*(Engine._refs_in(v) for v in value.values())) if value else set()
        if isinstance(value, (list, tuple)):
            return set().union(*(Engine._refs_in(v) for v in value)) if value else set()
        return set()

    def _deps_of(self, res: Res) -> set:
        return self._refs_in(res.inputs) | set(res.depends_on)

    def _begin(self, resources: list[Res], preview: bool, ordered: bool) -> _Run:
        seen: set = set()
        names = [r.name for r in resources]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate resource names in {names}")
        for r in resources:
            missing = self._deps_of(r) - (seen if ordered else set(names))
            if missing:
                raise ValueError(f"{r.name} depends on undeclared (or later) resources {sorted(missing)}")
            seen.add(r.name)
        self._run_start = len(self.calls)
        blobs, by_obj = {}, {}
        for r in resources:  # serialize_provider patches pickle globally: do it here, on one thread
            if r.provider_blob is not None:
                blobs[r.name] = r.provider_blob
                continue
            key = id(r.provider_obj)
            if key not in by_obj:
                by_obj[key] = serialize_provider(r.provider_obj)
            blobs[r.name] = by_obj[key]
        return _Run(preview=preview, blobs=blobs)

    def _resolve_value(self, value, run: _Run):
        if isinstance(value, Secret):
            inner, _ = self._resolve_value(value.value, run)
            return inner, True
        if isinstance(value, Ref):
            values, secrets, complete = run.outputs[value.name]
            if value.key in values:
                return copy.deepcopy(values[value.key]), value.key in secrets
            return (None if complete else UNKNOWN), False
        if isinstance(value, dict):
            out, secret = {}, False
            for k, v in value.items():
                out[k], s = self._resolve_value(v, run)
                secret = secret or s
            return out, secret
        if isinstance(value, (list, tuple)):
            items = [self._resolve_value(v, run) for v in value]
            return [v for v, _ in items], any(s for _, s in items)
        return value, False

    def _goal(self, res: Res, run: _Run) -> tuple[dict, set]:
        values, secrets = {}, set()
        for k, v in res.inputs.items():
            values[k], s = self._resolve_value(v, run)
            if s:
                secrets.add(k)
        values[PROVIDER_KEY] = run.blobs[res.name]
        return values, secrets

    def _options(self, res: Res) -> dict:
        return {
            "depends_on": list(res.depends_on),
            "additional_secret_outputs": list(res.additional_secret_outputs),
            "delete_before_replace": res.delete_before_replace,
            "retain_on_delete": res.retain_on_delete,
            "ignore_changes": list(res.ignore_changes),
            "replace_on_changes": list(res.replace_on_changes),
        }

    # ------------------------------------------------------------------------------------------- RPC calls
    def _check(self, res: Res, olds: dict, old_secrets: set, news: dict, new_secrets: set, preview: bool):
        if not preview and _contains_unknown(news):
            raise ValueError(f"{res.name}: unknown input outside preview")
        req = provider_pb2.CheckRequest(
            urn=self._urn(res.type, res.name),
            name=res.name,
            type=res.type,
            olds=self._wire(olds, old_secrets),
            news=self._wire(news, new_secrets),
            randomSeed=os.urandom(32),
        )
        resp = self._call("Check", res.name, req)
        inputs, secrets = _from_wire(resp.inputs)
        if not self.host.accept_secrets:
            secrets |= {k for k in new_secrets if k in inputs}
        failures = [(f.property, f.reason) for f in resp.failures]
        if failures:
            raise CheckFailedError(res.name, failures)
        return inputs, secrets

    def _diff(self, res: Res, old: ResourceState, inputs: dict, secrets: set):
        req = provider_pb2.DiffRequest(
            id=old.id,
            urn=self._urn(res.type, res.name),
            name=res.name,
            type=res.type,
            olds=self._wire(old.outputs, old.secret_outputs),
            news=self._wire(inputs, secrets),
            old_inputs=self._wire(old.inputs, old.secret_inputs),
            ignoreChanges=list(res.ignore_changes),
        )
        resp = self._call("Diff", res.name, req)
        changes, replaces = resp.changes, list(resp.replaces)
        if changes == _DIFF_UNKNOWN:
            # The engine's legacy diff: all old inputs against all new inputs, `__provider` included.
            keys = set(old.inputs) | set(inputs)
            changed = sorted(
                k
                for k in keys
                if old.inputs.get(k) != inputs.get(k)
                or _contains_unknown(inputs.get(k))
                or ((k in old.secret_inputs) != (k in secrets))
            )
            changes = _DIFF_SOME if changed else _DIFF_NONE
            # replace_on_changes needs changed keys; the dynamic host's Diff answers none, so it only
            # takes effect here (pulumi-engine-notes: a custom diff disables it).
            on = set(res.replace_on_changes)
            replaces += [k for k in changed if k in on or "*" in on]
        return changes, replaces, bool(resp.deleteBeforeReplace)

    def _create(self, res: Res, inputs: dict, secrets: set):
        req = provider_pb2.CreateRequest(
            urn=self._urn(res.type, res.name), name=res.name, type=res.type, properties=self._wire(inputs, secrets)
        )
        resp = self._call("Create", res.name, req)
        if not resp.id:
            raise ProviderError("Create", res.name, "provider returned an empty resource ID")
        outs, osecs = _from_wire(resp.properties)
        return resp.id, outs, self._annotate(outs, osecs, secrets, res)

    def _update(self, res: Res, old: ResourceState, inputs: dict, secrets: set):
        req = provider_pb2.UpdateRequest(
            id=old.id,
            urn=self._urn(res.type, res.name),
            name=res.name,
            type=res.type,
            olds=self._wire(old.outputs, old.secret_outputs),
            news=self._wire(inputs, secrets),
            old_inputs=self._wire(old.inputs, old.secret_inputs),
            ignoreChanges=list(res.ignore_changes),
        )
        resp = self._call("Update", res.name, req)
        outs, osecs = _from_wire(resp.properties)
        return outs, self._annotate(outs, osecs, secrets, res)

    def _delete(self, old: ResourceState):
        """Provider Delete with the old outputs; skipped for retain_on_delete and pending replacements."""
        if old.options.get("retain_on_delete") or old.pending_replacement:
            return
        req = provider_pb2.DeleteRequest(
            id=old.id,
            urn=self._urn(old.type, old.name),
            name=old.name,
            type=old.type,
            properties=self._wire(old.outputs, old.secret_outputs),
            old_inputs=self._wire(old.inputs, old.secret_inputs),
        )
        self._call("Delete", old.name, req)

    # ------------------------------------------------------------------------------------------ step logic
    def _step(self, res: Res, run: _Run) -> str:
        goal, goal_secrets = self._goal(res, run)
        with self._lock:
            old = self.state.get(res.name)
        news, new_secrets = dict(goal), set(goal_secrets)
        if old is not None:
            for k in res.ignore_changes:  # the engine substitutes old input values before Check
                news.pop(k, None)
                new_secrets.discard(k)
                if k in old.inputs:
                    news[k] = old.inputs[k]
                    if k in old.secret_inputs:
                        new_secrets.add(k)
        targeted_replace = res.replace and old is not None
        if old is None or targeted_replace:
            inputs, secrets = self._check(res, {}, set(), news, new_secrets, run.preview)
        else:
            inputs, secrets = self._check(res, old.inputs, old.secret_inputs, news, new_secrets, run.preview)

        if old is None:
            if run.preview:
                return self._planned(res, run, "create", inputs, secrets)
            id_, outs, osecs = self._create(res, inputs, secrets)
            self._commit(res, run, id_, inputs, secrets, outs, osecs)
            return "create"

        provider_dbr = False
        if targeted_replace or res.name in run.recreating:
            # `--replace` skips Diff (the engine blames the id); so does re-creating a dependent that a
            # delete-before-replace deleted earlier in this run.
            replace = True
        else:
            changes, replaces, provider_dbr = self._diff(res, old, inputs, secrets)
            if changes == _DIFF_NONE and not old.pending_replacement:
                if not run.preview:
                    self._commit(
                        res,
                        run,
                        old.id,
                        inputs,
                        secrets,
                        old.outputs,
                        old.secret_outputs | {k for k in res.additional_secret_outputs if k in old.outputs},
                    )
                else:
                    run.outputs[res.name] = (old.outputs, old.secret_outputs, True)
                return "same"
            replace = bool(replaces) or old.pending_replacement

        if not replace:
            if run.preview:
                return self._planned(res, run, "update", inputs, secrets)
            outs, osecs = self._update(res, old, inputs, secrets)
            self._commit(res, run, old.id, inputs, secrets, outs, osecs)
            return "update"

        if not targeted_replace and res.name not in run.recreating:
            # A replacement recomputes defaults: Check again against no olds, with the program's inputs.
            inputs, secrets = self._check(res, {}, set(), goal, goal_secrets, run.preview)
        dbr = res.delete_before_replace if res.delete_before_replace is not None else provider_dbr
        if dbr and not old.pending_replacement and res.name not in run.recreating:
            self._replace_dependents(res.name, run)
        if run.preview:
            return self._planned(res, run, "replace", inputs, secrets)
        if dbr:
            if not old.pending_replacement:
                self._delete(old)
                with self._lock:
                    old.pending_replacement = True  # deleted; the create below has not happened yet
            id_, outs, osecs = self._create(res, inputs, secrets)
            self._commit(res, run, id_, inputs, secrets, outs, osecs)
        else:
            id_, outs, osecs = self._create(res, inputs, secrets)
            self._commit(
                res, run, id_, inputs, secrets, outs, osecs, pending_delete=None if old.pending_replacement else old
            )
        return "replace"

    def _planned(self, res: Res, run: _Run, op: str, inputs: dict, secrets: set) -> str:
        # Without provider previews the engine hands back the inputs as outputs; other outputs are unknown.
        run.outputs[res.name] = (inputs, secrets, False)
        return op

    def _commit(
        self,
        res: Res,
        run: _Run,
        id_: str,
        inputs: dict,
        isecs: set,
        outs: dict,
        osecs: set,
        pending_delete: ResourceState | None = None,
    ):
        new = ResourceState(
            res.type,
            id_,
            inputs,
            outs,
            set(osecs),
            self._options(res),
            set(isecs),
            sorted(self._deps_of(res)),
            False,
            res.name,
            {k: sorted(self._refs_in(v)) for k, v in res.inputs.items() if self._refs_in(v)},
        )
        with self._lock:
            self.state[res.name] = new
            if pending_delete is not None:
                self.pending_deletes.append(pending_delete)
            run.outputs[res.name] = (outs, new.secret_outputs, True)

    # ------------------------------------------------------------------------- dependent replacements
    def _dependents(self, root: str) -> list[ResourceState]:
        """Everything in the state that depends on `root`, directly or not, in dependency order."""
        with self._lock:
            states = [s for s in self.state.values() if s.name != root]
        found, frontier = set(), {root}
        while frontier:
            frontier = {s.name for s in states if s.name not in found and set(s.dependencies) & frontier}
            found |= frontier
        order: list[ResourceState] = []
        left = [s for s in states if s.name in found]
        while left:
            names = {s.name for s in left}
            ready = [s for s in left if not set(s.dependencies) & names] or left  # a cycle cannot happen
            order += ready
            left = [s for s in left if s not in ready]
        return order

    def _requires_replacement(self, st: ResourceState, replace_set: set) -> bool:
        """The engine's requiresReplacement: Diff with the inputs that came from replaced resources unknown."""
        news, hit = {}, False
        for key, value in st.inputs.items():
            if set(st.property_dependencies.get(key, ())) & replace_set:
                value, hit = UNKNOWN, True
            news[key] = value
        if not hit:
            return False
        req = provider_pb2.DiffRequest(
            id=st.id,
            urn=self._urn(st.type, st.name),
            name=st.name,
            type=st.type,
            olds=self._wire(st.outputs, st.secret_outputs),
            news=self._wire(news, st.secret_inputs),
            old_inputs=self._wire(st.inputs, st.secret_inputs),
        )
        return bool(self._call("Diff", st.name, req).replaces)

    def _replace_dependents(self, root: str, run: _Run) -> None:
        """Before a delete-before-replace of `root`: delete the dependents that must be replaced with it."""
        replace_set, doomed = {root}, []
        for st in self._dependents(root):
            if st.pending_replacement or self._requires_replacement(st, replace_set):
                replace_set.add(st.name)
                doomed.append(st)
        run.recreating |= {st.name for st in doomed}
        if run.preview:
            return
        for st in reversed(doomed):  # dependents first
            if not st.pending_replacement:
                self._delete(st)
                with self._lock:
                    st.pending_replacement = True

    # -------------------------------------------------------------------------------------------- deletion
    def _condemned(self, resources: list[Res]) -> list[ResourceState]:
        declared = {r.name for r in resources}
        with self._lock:
            return [s for n, s in self.state.items() if n not in declared] + list(self.pending_deletes)

    @staticmethod
    def _schedule(condemned: list[ResourceState]) -> list[list[ResourceState]]:
        """The engine's ScheduleDeletes: antichains, dependents deleted before what they depend on."""
        remaining, chains = list(condemned), []
        while remaining:
            names = {s.name for s in remaining}
            chain = [s for s in remaining if not (set(s.dependencies) & names)]
            if not chain:  # a cycle cannot come from a program; fall back to reverse order
                chain = list(remaining)
            chains.append(list(reversed(chain)))
            remaining = [s for s in remaining if all(s is not c for c in chain)]
        chains.reverse()
        return chains

    def _delete_one(self, st: ResourceState, run: _Run):
        self._delete(st)
        with self._lock:
            if any(st is p for p in self.pending_deletes):
                self.pending_deletes = [p for p in self.pending_deletes if p is not st]
            elif self.state.get(st.name) is st:
                del self.state[st.name]
                run.ops[st.name] = "delete"

    def _delete_phase(self, condemned: list[ResourceState], run: _Run, workers: int):
        for chain in self._schedule(condemned):
            if workers <= 1 or len(chain) == 1:
                for st in chain:
                    self._delete_one(st, run)
                continue
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(self._delete_one, st, run) for st in chain]
            errors = [f.exception() for f in futures if f.exception() is not None]
            if errors:
                raise errors[0]
