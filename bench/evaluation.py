"""Program evaluation under recording mocks: ours (the real root `__main__.py`) against a bare baseline.

Ours: `runpy` of the root `__main__.py` with `disinto:projectToml` pointing at a TOML of N agents,
under `disinto_infra.program.plan.run_with_mocks` — the same path `pulumi up` takes (stack config, TOML
validation, formulas, the Agent components and their children, exports), with the engine replaced
by the recording mock monitor.

Bare baseline: a program with no logic of ours that registers, under the same mocks, the same
resources the first run of ours registered — same type tokens, same logical names, same parents,
the same input values (secrets wrapped with `Output.secret`) and resource options:
- components as plain `pulumi.ComponentResource`s of the same type;
- dynamic resources as `pulumi.dynamic.Resource` subclasses with the same module/name and a
  provider that does nothing, so the SDK still pickles a provider per resource (its own cost);
- every other custom resource (docker, command) as a plain `pulumi.CustomResource` of that type.
The provider SDKs' Python wrappers (pulumi_docker, pulumi_command) therefore count as "ours" here:
a conservative choice that makes the baseline cheaper and our overhead larger.

SDK-floor baseline: the bare program, but each docker and command resource also hands the engine
every property its provider SDK class declares (outputs as None), as that class's constructor does
for any program. The SDK makes an `Output` per property it is handed (`pulumi.runtime.rpc`
`transfer_properties`): a docker container declares 78, a local command 16, so this part of a run
is the provider SDK's, whoever registers the resource. What is left between ours and this floor is
our program: its logic and the `Output` wiring between resources.
"""

from __future__ import annotations

import gc
import runpy
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_command
import pulumi_docker
from pulumi.dynamic import Resource as DynamicResource
from pulumi.dynamic import ResourceProvider
from pulumi.runtime import rpc

from disinto_infra.program.plan import RecordingMocks, Registration, is_secret, run_with_mocks

PROVIDER_KEY = "__provider"
DYNAMIC_PREFIX = "pulumi-python:dynamic"
# The provider SDK class of each non-dynamic resource type the program registers.
SDK_CLASSES: dict[str, type] = {
    "docker:index/container:Container": pulumi_docker.Container,
    "docker:index/volume:Volume": pulumi_docker.Volume,
    "docker:index/remoteImage:RemoteImage": pulumi_docker.RemoteImage,
    "command:local:Command": pulumi_command.local.Command,
}


def sdk_property_names(cls: type) -> list[str]:
    """The engine-side names of every input and output `cls` declares (its `@pulumi.getter`s)."""
    return [
        v.fget._pulumi_name for v in vars(cls).values() if isinstance(v, property) and hasattr(v.fget, "_pulumi_name")
    ]


def project_toml(agents: int) -> str:
    lines = ['name = "bench"', 'repo = "johba/disinto"', ""]
    for i in range(agents):
        lines += [f"[agents.a{i:03d}]", 'base_url = "http://10.0.0.1:8081"', 'model = "qwen"', ""]
    return "\n".join(lines)


def make_factory(root: Path, sizes: list[int]) -> dict[int, Path]:
    """<root>/projects/bench-<N>.toml per size, and formulas/dev.toml for the default role."""
    (root / "projects").mkdir(parents=True, exist_ok=True)
    (root / "formulas").mkdir(exist_ok=True)
    (root / "formulas" / "dev.toml").write_text('name = "dev"\ndescription = "bench formula"\n')
    paths = {}
    for n in sizes:
        paths[n] = root / "projects" / f"bench-{n}.toml"
        paths[n].write_text(project_toml(n))
    return paths


# ------------------------------------------------------------------------------------------ ours
def run_ours(main_py: Path, toml: Path) -> list[Registration]:
    pulumi.runtime.set_all_config({"disinto:projectToml": str(toml)}, [])
    try:
        run = run_with_mocks(lambda: runpy.run_path(str(main_py)), mocks=RecordingMocks(), preview=True)
    finally:
        pulumi.runtime.set_all_config({}, [])
    return run.registrations


def validate_only(toml: Path) -> None:
    """The part of ours before any registration: settings, TOML validation, formulas."""
    from disinto_infra.config.stack_settings import StackSettings
    from disinto_infra.factory.formulas import load_fleet_and_formulas

    load_fleet_and_formulas(StackSettings.from_mapping({"projectToml": str(toml)}, toml.parent.parent))


# -------------------------------------------------------------------------------------- baseline
class BareProvider(ResourceProvider):
    """A dynamic provider with no logic (never called under mocks; pickled by the SDK like ours)."""


_DYNAMIC_CLASSES: dict[str, type] = {}


def dynamic_class(type_token: str) -> type:
    """A `pulumi.dynamic.Resource` subclass whose type token is `type_token`."""
    if type_token not in _DYNAMIC_CLASSES:
        rest = type_token[len(DYNAMIC_PREFIX) :]  # "/forgejo:User" or ":Resource"
        module, _, name = rest.lstrip("/").rpartition(":")
        _DYNAMIC_CLASSES[type_token] = type(f"Bare{name}", (DynamicResource,), {}, module=module, name=name)
    return _DYNAMIC_CLASSES[type_token]


def _as_input(value: Any) -> Any:
    if is_secret(value):
        return pulumi.Output.secret(_as_input(rpc.unwrap_rpc_secret(value)))
    if isinstance(value, dict):
        return {k: _as_input(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_input(v) for v in value]
    return value


def _depth(reg: Registration, by_urn: dict[str, Registration]) -> int:
    depth, parent = 0, reg.parent
    while parent in by_urn:
        depth, parent = depth + 1, by_urn[parent].parent
    return depth


def bare_program(spec: list[Registration], sdk_floor: bool = False) -> Callable[[], None]:
    """The baseline program for the registrations of one run of ours; with `sdk_floor`, every docker
    and command resource also hands over the properties its SDK class declares (see the module doc)."""
    by_urn = {r.urn: r for r in spec}
    ordered = sorted(spec, key=lambda r: _depth(r, by_urn))  # parents first
    prepared = []
    for reg in ordered:
        props: dict[str, Any] = {k: v for k, v in reg.inputs.items() if k != PROVIDER_KEY}
        if sdk_floor and reg.custom and not reg.type.startswith(DYNAMIC_PREFIX):
            if reg.type not in SDK_CLASSES:
                raise KeyError(f"{reg.type}: add its provider SDK class to SDK_CLASSES")
            props.update({name: None for name in sdk_property_names(SDK_CLASSES[reg.type]) if name not in props})
        prepared.append((reg, props))

    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        for reg, props in prepared:
            opts = pulumi.ResourceOptions(
                parent=made.get(reg.parent),
                additional_secret_outputs=list(reg.options.additional_secret_outputs) or None,
                retain_on_delete=reg.options.retain_on_delete or None,
                delete_before_replace=reg.options.delete_before_replace or None,
            )
            if not reg.custom:
                made[reg.urn] = pulumi.ComponentResource(reg.type, reg.name, None, opts)
            elif reg.type.startswith(DYNAMIC_PREFIX):
                made[reg.urn] = dynamic_class(reg.type)(BareProvider(), reg.name, _as_input(props), opts)
            else:
                made[reg.urn] = pulumi.CustomResource(reg.type, reg.name, _as_input(props), opts)

    return program


def _registered(regs: list[Registration]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Each resource's type, parent and inputs by URN (the pickled provider apart: the baseline's
    does nothing by design)."""
    return {r.urn: (r.type, r.parent, {k: v for k, v in r.inputs.items() if k != PROVIDER_KEY}) for r in regs}


def run_bare(program: Callable[[], None]) -> list[Registration]:
    return run_with_mocks(program, mocks=RecordingMocks()).registrations


# ----------------------------------------------------------------------------------------- timing
def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def validate_scaling(factory: Path, sizes: tuple[int, int], repeats: int = 3) -> dict[int, float]:
    """Median seconds of `validate_only` (what `validate` does) for a TOML of each size: linear
    checks double from N to 2N agents, checks of every pair quadruple."""
    tomls = make_factory(factory, list(sizes))
    validate_only(tomls[sizes[0]])  # warm: imports
    return {n: statistics.median(_timed(lambda n=n: validate_only(tomls[n]))[0] for _ in range(repeats)) for n in sizes}


def measure(main_py: Path, factory: Path, sizes: list[int], repeats: int = 5, log=print) -> dict[str, Any]:
    """Warm run each, then `repeats` interleaved runs of ours and both baselines; medians in seconds."""
    tomls = make_factory(factory, sizes)
    results: dict[str, Any] = {"ours": {}, "bare": {}, "sdk": {}, "registrations": {}, "by_type": {}}
    for n in sizes:
        spec = run_ours(main_py, tomls[n])  # warm-up, and what the baselines must register
        programs = {"bare": bare_program(spec), "sdk": bare_program(spec, sdk_floor=True)}
        for program in programs.values():
            assert _registered(run_bare(program)) == _registered(spec), (
                "a baseline must register the same resources with the same inputs"
            )
        times: dict[str, list[float]] = {"ours": [], "bare": [], "sdk": []}
        for _ in range(repeats):  # interleaved, so that drift of the machine touches all three alike
            times["ours"].append(_timed(lambda n=n: run_ours(main_py, tomls[n]))[0])
            for side, program in programs.items():
                times[side].append(_timed(lambda program=program: run_bare(program))[0])
        for side, seconds in times.items():
            results[side][n] = statistics.median(seconds)
        results["registrations"][n] = len(spec)
        if n == max(sizes):
            results["validate_s"] = statistics.median(
                _timed(lambda n=n: validate_only(tomls[n]))[0] for _ in range(repeats)
            )
            types: dict[str, int] = {}
            for r in spec:
                types[r.type] = types.get(r.type, 0) + 1
            results["by_type"] = types
            results["spec"] = spec
        log(
            f"eval n={n}: {len(spec)} registrations, ours {results['ours'][n] * 1000:.0f} ms, "
            f"bare {results['bare'][n] * 1000:.0f} ms, SDK floor {results['sdk'][n] * 1000:.0f} ms (medians of {repeats})"
        )
    return results
