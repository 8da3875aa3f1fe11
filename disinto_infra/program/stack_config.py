"""The running stack's settings, read through Pulumi's config (each key with its own type) into the
same typed model the offline commands use (config/stack_settings.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pulumi

from disinto_infra.config.stack_settings import KEY_KINDS, NAMESPACE, PROVIDER_SECRETS, StackSettings, plain_problems


def running_stack_settings(project_dir: Path, home: str | None = None) -> StackSettings:
    """`disinto:*` of the running stack; a provider's secret written in clear is refused."""
    config = pulumi.Config(NAMESPACE)
    readers: dict[str, Callable[[str], object]] = {
        "str": config.get,
        "int": config.get_int,
        "float": config.get_float,
        "bool": config.get_bool,
        "secret": config.get_secret,
    }
    values = {key: readers[kind](key) for key, kind in KEY_KINDS.items()}
    stack_file = f"Pulumi.{pulumi.get_stack()}.yaml"
    plain = [key for key in PROVIDER_SECRETS if _given(key) and not pulumi.runtime.is_config_secret(key)]
    return StackSettings.from_mapping(
        values,
        project_dir,
        home,
        source=stack_file,
        also=plain_problems(plain, stack_file),
        docker_host=pulumi.Config("docker").get("host"),
    )


def _given(key: str) -> bool:
    namespace, name = key.split(":")
    return pulumi.Config(namespace).get(name) is not None
