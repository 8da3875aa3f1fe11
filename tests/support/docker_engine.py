"""A real Docker engine for the engine tests: its API over the socket, and a double of the Docker provider on it.

`ProviderDouble` creates, waits for and deletes a container from the inputs the program registered,
with the Engine API calls terraform-provider-docker v4.5.0 makes, in its order
(internal/provider/resource_docker_container_funcs.go @ e6e1dfb):
create (`ContainerCreate`, line 456), disconnect `bridge` (line 464), connect each network by id
(line 499), start (line 586), the `wait` loop on health when `wait` is set (lines 590-628); delete:
`ContainerStop` with `t=destroy_grace_seconds` (line 1093), `ContainerRemove` with force (line 1106),
then `ContainerWait` not-running (line 1118). Nothing else is faked: the engine, the image and its
entrypoint are real.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from disinto_infra.runtimes import go_duration

SOCKET = os.environ.get("DOCKER_SOCKET", "/var/run/docker.sock")
# Debian's docker.io client: the machine may also carry another one first on PATH (docs/engine-tests.md).
DOCKER_CLI = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else (shutil.which("docker") or "docker")


class EngineError(Exception):
    pass


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class Engine:
    """The Engine API, one call per method, as the provider's client sends them."""

    def __init__(self, path: str = SOCKET) -> None:
        self.path = path

    def call(
        self, method: str, path: str, body: object = None, query: dict[str, str] | None = None, timeout: float = 60
    ) -> Any:
        url = path + ("?" + urllib.parse.urlencode(query) if query else "")
        connection = _UnixConnection(self.path, timeout)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            connection.request(method, url, body=payload, headers=headers)
            reply = connection.getresponse()
            data = reply.read()
        finally:
            connection.close()
        if reply.status >= 400:
            raise EngineError(f"{method} {url}: {reply.status} {data.decode(errors='replace').strip()}")
        return json.loads(data) if data and reply.getheader("Content-Type", "").startswith("application/json") else None

    def inspect(self, container: str) -> dict[str, Any]:
        return self.call("GET", f"/containers/{container}/json")


def unavailable() -> str | None:
    """Why no engine answers here, or None when one does."""
    if not os.path.exists(SOCKET):
        return f"no Docker daemon socket at {SOCKET} (start dockerd as root: docs/engine-tests.md)"
    try:
        Engine().call("GET", "/_ping", timeout=5)
    except (OSError, EngineError) as error:
        return f"the Docker daemon at {SOCKET} does not answer: {error}"
    return None


def cli(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([DOCKER_CLI, *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise EngineError(f"docker {' '.join(args)}: {done.stderr.strip()}")
    return done


def _nanos(duration: str | None) -> int:
    return go_duration.parse(duration) if duration else 0


def create_body(inputs: dict[str, Any]) -> dict[str, Any]:
    """The ContainerCreate body the provider builds from these inputs (lines 70-448)."""
    config: dict[str, Any] = {"Image": inputs["image"], "Tty": False, "OpenStdin": False}
    if inputs.get("envs"):
        config["Env"] = inputs["envs"]
    if inputs.get("entrypoints"):
        config["Entrypoint"] = inputs["entrypoints"]
    if inputs.get("command"):
        config["Cmd"] = inputs["command"]
    if inputs.get("stopTimeout") is not None:
        config["StopTimeout"] = inputs["stopTimeout"]
    if inputs.get("stopSignal"):
        config["StopSignal"] = inputs["stopSignal"]
    if inputs.get("labels"):
        config["Labels"] = {label["label"]: label["value"] for label in inputs["labels"]}
    binds, volumes = [], {}
    for volume in inputs.get("volumes", []):
        source = volume.get("hostPath") or volume.get("volumeName")
        volumes[volume["containerPath"]] = {}
        if source:
            binds.append(f"{source}:{volume['containerPath']}:{'ro' if volume.get('readOnly') else 'rw'}")
    if volumes:
        config["Volumes"] = volumes
    if check := inputs.get("healthcheck"):
        config["Healthcheck"] = {
            "Test": check["tests"],
            "Interval": _nanos(check.get("interval")),
            "Timeout": _nanos(check.get("timeout")),
            "StartPeriod": _nanos(check.get("startPeriod")),
            "StartInterval": _nanos(check.get("startInterval")),
            "Retries": check.get("retries", 0),
        }
    host: dict[str, Any] = {
        "RestartPolicy": {"Name": inputs.get("restart", "no"), "MaximumRetryCount": inputs.get("maxRetryCount", 0)},
        "LogConfig": {"Type": inputs.get("logDriver", ""), "Config": inputs.get("logOpts") or None},
        "Init": bool(inputs.get("init", False)),
        "Binds": binds or None,
    }
    if inputs.get("securityOpts"):
        host["SecurityOpt"] = inputs["securityOpts"]
    return {**config, "HostConfig": host, "NetworkingConfig": {}}


@dataclass(frozen=True)
class Stopped:
    seconds: float
    exit_code: int
    logs: str


@dataclass
class ProviderDouble:
    """Plays the Docker provider's container create, wait and delete on the real engine."""

    engine: Engine = field(default_factory=Engine)

    def create(self, inputs: dict[str, Any]) -> str:
        created = self.engine.call("POST", "/containers/create", create_body(inputs), {"name": inputs["name"]})
        cid: str = created["Id"]
        if inputs.get("networksAdvanced"):
            try:
                self.engine.call("POST", "/networks/bridge/disconnect", {"Container": cid, "Force": False})
            except EngineError as error:
                if "is not connected to the network bridge" not in str(error):
                    raise
            for net in inputs["networksAdvanced"]:
                self.engine.call("POST", f"/networks/{net['name']}/connect", {"Container": cid, "EndpointConfig": {}})
        self.engine.call("POST", f"/containers/{cid}/start")
        if inputs.get("wait"):
            self.wait_healthy(cid, float(inputs.get("waitTimeout", 60)))
        return cid

    def wait_healthy(self, cid: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = (self.engine.inspect(cid)["State"].get("Health") or {}).get("Status")
            if health == "healthy":
                return
            time.sleep(1)
        raise EngineError("container failed to be in healthy state")

    def delete(self, cid: str, inputs: dict[str, Any]) -> Stopped:
        """Stop with the grace, remove, wait; how the stop went."""
        grace = int(inputs.get("destroyGraceSeconds") or 0)
        began = time.monotonic()
        try:
            self.engine.call("POST", f"/containers/{cid}/stop", query={"t": str(grace)}, timeout=grace + 60)
        except EngineError as error:
            if "No such container" not in str(error):
                raise
        # Observations between the provider's two calls (reads; the provider makes none here).
        logs = cli("logs", cid, check=False)
        stopped = Stopped(
            time.monotonic() - began, self.engine.inspect(cid)["State"]["ExitCode"], logs.stdout + logs.stderr
        )
        try:
            # remove_volumes defaults to true (resource_docker_container.go line 256): anonymous volumes go too.
            remove = "1" if inputs.get("removeVolumes", True) else "0"
            self.engine.call("DELETE", f"/containers/{cid}", query={"force": "1", "v": remove})
        except EngineError as error:
            if "No such container" not in str(error) and "is already in progress" not in str(error):
                raise
        return stopped
