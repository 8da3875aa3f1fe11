"""What the real program registered, as declarations the engine harness runs (`tests/support/engine.py`).

`disinto_infra.program.plan.run_with_mocks` runs the program under recording mocks: every RegisterResource
with its inputs (Outputs already resolved to fake values), its options and, per input, the URNs of the
resources that input came from (`propertyDependencies`, as the SDK sends them to the engine). Here each
dynamic resource of that recording becomes a `Res`:

* its options are the registered ones (delete_before_replace only when the program set it: otherwise the
  provider's diff decides, as in the engine), and its `__provider` is the blob the program pickled;
* an input that came from another resource becomes a `Ref` to the output it was taken from: the only
  output of that resource whose fake value equals the input (the same key preferred), so the engine
  feeds the real output of the real run; a secret input stays secret;
* only dynamic resources are driven (the host runs them); an input taken from any other resource
  cannot be fed and is an error, naming it.

`with_stand_ins` adds every other custom resource (docker, command) as a stand-in the host can run
(tests/support/toy_provider.py), with the registered dependencies and nothing of its inputs: the
engine then orders, runs and stops the whole program as registered, and the stand-ins' log says
which of them ran (an ordering proof: what a stand-in's provider would do is not modelled).
"""

from __future__ import annotations

from typing import Any

from disinto_infra.program.plan import MockRun, RegisteredOptions, Registration, is_secret, reveal
from tests.support.engine import PROVIDER_KEY, Engine, Ref, Res, Secret
from tests.support.toy_provider import ToyProvider

DYNAMIC_PREFIX = "pulumi-python:dynamic/"


class WiringError(Exception):
    """A registration the harness cannot drive faithfully."""


def _source_key(reg: Registration, key: str, value: Any, source: Registration, outputs: dict[str, Any]) -> str:
    matches = [k for k, v in outputs.items() if k != PROVIDER_KEY and reveal(v) == value]
    if key in matches:
        return key
    if len(matches) == 1:
        return matches[0]
    raise WiringError(f"{reg.name}.{key}: cannot tell which output of {source.name} it holds (candidates {matches})")


def _input(reg: Registration, key: str, value: Any, dynamic: dict[str, Registration], run: MockRun) -> Any:
    plain = reveal(value)
    deps = dependencies_of(reg.options, key)
    if not deps:
        return Secret(plain) if is_secret(value) else plain
    if len(deps) != 1 or deps[0] not in dynamic:
        raise WiringError(f"{reg.name}.{key}: comes from {list(deps)}, not from one dynamic resource")
    source = dynamic[deps[0]]
    ref = Ref(source.name, _source_key(reg, key, plain, source, run.outputs[source.urn]))
    return Secret(ref) if is_secret(value) else ref


def _res(reg: Registration, dynamic: dict[str, Registration], run: MockRun, names: dict[str, str] | None = None) -> Res:
    """`names`: the URNs of every resource driven with it (default: the dynamic ones), for depends_on."""
    opts = reg.options
    names = names if names is not None else {urn: r.name for urn, r in dynamic.items()}
    inputs = {k: _input(reg, k, v, dynamic, run) for k, v in reg.inputs.items() if k != PROVIDER_KEY}
    return Res(
        reg.name,
        None,
        inputs,
        depends_on=[names[urn] for urn in opts.dependencies if urn in names],
        additional_secret_outputs=list(opts.additional_secret_outputs),
        delete_before_replace=opts.delete_before_replace if opts.delete_before_replace_defined else None,
        retain_on_delete=opts.retain_on_delete,
        ignore_changes=list(opts.ignore_changes),
        replace_on_changes=list(opts.replace_on_changes),
        type=reg.type,
        provider_blob=reveal(reg.inputs[PROVIDER_KEY]),
        parent=reg.parent,
    )


def _dependency_order(resources: list[Res]) -> list[Res]:
    """Each resource after those it depends on (the order the engine's registrations arrive in)."""
    placed: set[str] = set()
    ordered: list[Res] = []
    left = list(resources)
    while left:
        ready = [r for r in left if Engine._refs_in(r.inputs) | set(r.depends_on) <= placed]
        if not ready:
            raise WiringError(f"dependency cycle among {[r.name for r in left]}")
        ordered += ready
        placed |= {r.name for r in ready}
        left = [r for r in left if r.name not in placed]
    return ordered


def dynamic_resources(run: MockRun) -> list[Res]:
    """Every dynamic resource the program registered, as `Res`, in dependency order."""
    dynamic = {r.urn: r for r in run.registrations if r.type.startswith(DYNAMIC_PREFIX)}
    return _dependency_order([_res(reg, dynamic, run) for reg in dynamic.values()])


def with_stand_ins(run: MockRun, log: str) -> list[Res]:
    """Every custom resource the program registered, in dependency order: the dynamic ones as
    `dynamic_resources` gives them, every other one as a stand-in whose calls go to `log` under its name."""
    custom = {r.urn: r for r in run.registrations if r.custom}
    dynamic = {urn: r for urn, r in custom.items() if r.type.startswith(DYNAMIC_PREFIX)}
    names = {urn: r.name for urn, r in custom.items()}
    resources = [_res(reg, dynamic, run, names) for reg in dynamic.values()]
    stand_in = ToyProvider()
    for urn, reg in custom.items():
        if urn not in dynamic:
            resources.append(
                Res(
                    reg.name,
                    stand_in,
                    {"label": reg.name, "log": log},
                    depends_on=[names[u] for u in reg.options.dependencies if u in names],
                    type=reg.type,
                )
            )
    return _dependency_order(resources)


def dependencies_of(options: RegisteredOptions, key: str) -> tuple[str, ...]:
    """The URNs an input property waits for, as the SDK registered them."""
    return dict(options.property_dependencies).get(key, ())
