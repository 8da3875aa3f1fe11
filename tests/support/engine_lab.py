"""A factory on a real Docker engine, closed to the outside: the engine tests' world (docs/engine-tests.md).

One `Lab` holds an `--internal` network (no route off the machine), a Forgejo stand-in on it with the
alias `forgejo` (tests/support/forge_standin.py), bare repositories it serves, and a factory root on
this host (projects/, state/, the Claude and SSH files the container binds). `Lab.agent` runs the real
program under mocks for one agent, takes the container and `<name>-started` command it registered,
substitutes only what mocks cannot know (the image, the network id, the agent's token) and plays them
on the engine: the container through `ProviderDouble`, the command as pulumi-command runs it.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from disinto_infra import naming
from disinto_infra.config.project_toml import parse_project_text
from disinto_infra.config.stack_settings import StackSettings
from disinto_infra.program.agent import Agent, AgentArgs
from disinto_infra.program.plan import MockRun, reveal, run_with_mocks
from disinto_infra.runtimes.docker import for_stack
from tests.support.docker_engine import DOCKER_CLI, Engine, EngineError, ProviderDouble, Stopped, cli
from tests.support.factory import formula

ROOT = Path(__file__).resolve().parents[2]
IMAGE_SCRIPT = Path(__file__).with_name("agents-image.sh")
STANDIN = Path(__file__).with_name("forge_standin.py")
FACTORY_TARBALL = ROOT.parent / "shared" / "factory" / "disinto-2308c4c.tar.gz"
IMAGE_REPOSITORY = "disinto-infra-test-agents"
LABEL = "disinto-infra.engine-test"
PROJECT = "demo"
REPO = "owner/demo"


class Unavailable(Exception):
    """What the engine tests need and this machine lacks: they skip (or, when required, fail) with it."""


def factory_source() -> Path | tarfile.TarFile:
    """The factory's source: DISINTO_FACTORY_SRC (a checkout) or the shared tarball beside this repository."""
    named = os.environ.get("DISINTO_FACTORY_SRC")
    if named:
        return Path(named)
    if FACTORY_TARBALL.is_file():
        return tarfile.open(FACTORY_TARBALL)
    raise Unavailable(f"no factory source: set DISINTO_FACTORY_SRC to a disinto checkout, or provide {FACTORY_TARBALL}")


def image_key(source: Path | tarfile.TarFile) -> str:
    """A content key: the build script and the factory's Dockerfile and entrypoint decide the image."""
    digest = hashlib.sha256(IMAGE_SCRIPT.read_bytes())
    if isinstance(source, Path):
        for rel in sorted(p.relative_to(source) for p in source.rglob("*") if p.is_file() and ".git" not in p.parts):
            digest.update(str(rel).encode() + (source / rel).read_bytes())
    else:
        digest.update(Path(str(source.name)).read_bytes())
    return digest.hexdigest()[:16]


def agents_image() -> str:
    """The agents image tag, built once per content key (a second run reuses it)."""
    source = factory_source()
    tag = f"{IMAGE_REPOSITORY}:{image_key(source)}"
    if cli("image", "inspect", tag, check=False).returncode == 0:
        return tag
    if os.geteuid() != 0:
        raise Unavailable(f"the agents image {tag} is not built, and building it needs root (debootstrap, chroot)")
    with tempfile.TemporaryDirectory(prefix="factory-src.") as work:
        if isinstance(source, Path):
            folder = source
        else:
            source.extractall(work, filter="data")
            folder = next(p for p in Path(work).iterdir() if (p / "docker" / "agents" / "Dockerfile").is_file())
        done = subprocess.run(["bash", str(IMAGE_SCRIPT), str(folder), tag], capture_output=True, text=True)
    if done.returncode != 0:
        raise EngineError(f"building {tag} failed:\n{done.stderr[-4000:]}")
    return tag


@dataclass
class Started:
    """What `<name>-started` did: its exit status and output, as pulumi-command would report them."""

    returncode: int
    output: str
    seconds: float


@dataclass
class AgentBox:
    """One agent as the program registered it and the double created it."""

    name: str
    cid: str
    inputs: dict[str, Any]
    started_command: dict[str, Any]
    token: str


@dataclass
class Lab:
    image: str
    root: Path
    engine: Engine = field(default_factory=Engine)
    network: str = field(default_factory=lambda: f"dit-{secrets.token_hex(4)}")
    network_id: str = ""
    accounts: dict[str, str] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)
    agents: list[AgentBox] = field(default_factory=list)

    @property
    def forge(self) -> str:
        return f"{self.network}-forge"

    # ---------------------------------------------------------------- the world

    def open(self) -> Lab:
        self.network_id = self.engine.call(
            "POST", "/networks/create", {"Name": self.network, "Internal": True, "Labels": {LABEL: "1"}}
        )["Id"]
        # Readable by the image's agent user (uid 1000), as a factory checkout is.
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        for folder in ("projects", "state", "claude-shared", "ssh", "git"):
            (self.root / folder).mkdir(mode=0o755, exist_ok=True)
        (self.root / "claude.json").write_text("{}\n")
        self._save_accounts()
        self._bare_repo(REPO)
        return self

    def _bare_repo(self, slug: str) -> None:
        work, bare = self.root / "work" / slug, self.root / "git" / f"{slug}.git"
        work.mkdir(parents=True)
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
        subprocess.run([*git, "init", "-q", "-b", "main", str(work)], check=True)
        (work / "README.md").write_text("demo\n")
        subprocess.run([*git, "-C", str(work), "add", "."], check=True)
        subprocess.run([*git, "-C", str(work), "commit", "-q", "-m", "init"], check=True)
        subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
        subprocess.run(["git", "-C", str(bare), "update-server-info"], check=True)

    def _save_accounts(self) -> None:
        known = {login: token for login, token in self.accounts.items() if login not in self.refused}
        (self.root / "accounts.json").write_text(json.dumps(known))

    def start_forge(self) -> None:
        """Start the stand-in (tests/support/forge_standin.py) on the lab's network."""
        cli(
            "run",
            "-d",
            "--name",
            self.forge,
            "--label",
            f"{LABEL}=1",
            "--network",
            self.network,
            "--network-alias",
            "forgejo",
            "-v",
            f"{self.root / 'git'}:/srv/git:ro",
            "-v",
            f"{self.root / 'accounts.json'}:/srv/accounts.json:ro",
            "-v",
            f"{STANDIN}:/forge.py:ro",
            "--entrypoint",
            "python3",
            self.image,
            "-u",
            "/forge.py",
        )

    def stop_forge(self) -> None:
        cli("rm", "-f", "-v", self.forge, check=False)

    def close(self) -> None:
        for box in self.agents:
            cli("rm", "-f", "-v", box.cid, check=False)
            cli("volume", "rm", naming.repos_volume(box.name), naming.data_volume(box.name), check=False)
        self.stop_forge()
        cli("network", "rm", self.network, check=False)

    # ---------------------------------------------------------------- agents

    def settings(self, **stack: object) -> StackSettings:
        values: dict[str, object] = {
            "projectToml": str(self.root / "projects" / "*.toml"),
            "factoryRoot": str(self.root),
            "claudeSharedDir": str(self.root / "claude-shared"),
            "claudeConfigFile": str(self.root / "claude.json"),
            "sshDir": str(self.root / "ssh"),
            "network": self.network,
            **stack,
        }
        return StackSettings.from_mapping(values, ROOT, home=str(self.root))

    def registered(self, name: str, poll_interval: int = 5, **stack: object) -> MockRun[Agent]:
        """The real program's registrations for agent `name` (its TOML written into projects/)."""
        toml = (
            f'name = "{PROJECT}"\nrepo = "{REPO}"\n\n[agents.{name}]\n'
            # A closed port: no model is reached, and nothing leaves the machine.
            f'base_url = "http://127.0.0.1:9"\nmodel = "m"\nroles = ["dev", "review"]\n'
            f'forge_user = "{name}"\npoll_interval = {poll_interval}\n'
        )
        path = self.root / "projects" / f"{PROJECT}.toml"
        path.write_text(toml)
        project = parse_project_text(path, toml)
        settings = self.settings(**stack)

        def program() -> Agent:
            spec = project.agents[0]
            return Agent(spec.name, AgentArgs(spec, project, settings, for_stack(settings), "dev", formula()))

        return run_with_mocks(program)

    def refuse(self, name: str) -> None:
        """Forgejo no longer knows agent `name`'s token: its entrypoint cannot prove its login and exits."""
        self.refused.add(name)
        self._save_accounts()

    def accept(self, name: str) -> None:
        self.refused.discard(name)
        self._save_accounts()

    def agent(self, name: str, *, own_image: bool = False, refused: bool = False, **stack: object) -> AgentBox:
        """Create agent `name`'s volumes and container as the providers would.

        `own_image`: keep the image the program registered (a local image id is real as it is).
        `refused`: the stand-in refuses the agent's token from the start.
        """
        run = self.registered(name, **stack)
        inputs = reveal(run.named(f"{name}-container").inputs)
        started = reveal(run.named(f"{name}-started").inputs)
        token = self.accounts.setdefault(name, secrets.token_hex(20))
        if refused:
            self.refused.add(name)
        self._save_accounts()
        inputs = self._substituted(inputs, token, own_image)
        remove_leftovers(name)
        for volume in (naming.repos_volume(name), naming.data_volume(name)):
            self.engine.call("POST", "/volumes/create", {"Name": volume, "Labels": {LABEL: "1"}})
        cid = ProviderDouble(self.engine).create(inputs)
        box = AgentBox(name, cid, inputs, started, token)
        self.agents.append(box)
        return box

    def _substituted(self, inputs: dict[str, Any], token: str, own_image: bool) -> dict[str, Any]:
        envs = []
        for entry in inputs["envs"]:
            key = entry.split("=", 1)[0]
            envs.append(f"{key}={token}" if key in ("FORGE_TOKEN", "FORGE_PASS") else entry)
        return {
            **inputs,
            "image": inputs["image"] if own_image else self.image,
            "envs": envs,
            "networksAdvanced": [{"name": self.network_id}],
            "labels": [*inputs.get("labels", []), {"label": LABEL, "value": "1"}],
        }

    def run_started(self, box: AgentBox) -> Started:
        """`<name>-started`, as pulumi-command runs it."""
        return run_command(box.started_command)

    def stop(self, box: AgentBox) -> Stopped:
        """The provider's delete: stop with the grace, then remove."""
        return ProviderDouble(self.engine).delete(box.cid, box.inputs)

    def data_file(self, box: AgentBox, name: str) -> str:
        """A file of the agent's data volume, read by a throwaway container with no network ("" when absent)."""
        done = cli(
            "run", "--rm", "--network", "none", "-v", f"{naming.data_volume(box.name)}:/d", "--entrypoint", "cat",
            self.image, f"/d/{name}", check=False,
        )  # fmt: skip
        return done.stdout.strip()

    def exec(self, box: AgentBox, *args: str, user: str = "0") -> subprocess.CompletedProcess[str]:
        return cli("exec", "-u", user, box.cid, *args, check=False)


def remove_leftovers(agent: str) -> None:
    """An interrupted run may have left this agent's container and volumes: the engine would refuse the
    name, or hand back a volume with that run's files. Only what the engine tests labelled is removed."""
    found = cli("ps", "-aq", "--filter", f"label={LABEL}=1", "--filter", f"name=^/{naming.container_name(agent)}$")
    for cid in found.stdout.split():
        cli("rm", "-f", "-v", cid, check=False)
    for volume in (naming.repos_volume(agent), naming.data_volume(agent)):
        labelled = cli("volume", "inspect", "--format", '{{index .Labels "' + LABEL + '"}}', volume, check=False)
        if labelled.stdout.strip() == "1":
            cli("volume", "rm", "-f", volume, check=False)


def run_command(inputs: dict[str, Any]) -> Started:
    """A registered `command.local.Command`'s create as pulumi-command runs it: `/bin/sh -c`, with its environment."""
    env = {**os.environ, **inputs.get("environment", {})}
    env["PATH"] = f"{Path(DOCKER_CLI).parent}:{env.get('PATH', '')}"
    began = time.monotonic()
    done = subprocess.run(["/bin/sh", "-c", inputs["create"]], env=env, capture_output=True, text=True, cwd=ROOT)
    return Started(done.returncode, done.stdout + done.stderr, time.monotonic() - began)


T = TypeVar("T")

# A job of the agent user that runs until the test releases it (`release_job`), then writes its
# result on the data volume: a session whose length is an event, not a time.
HELD_JOB = "until [ -e /tmp/release ]; do sleep 0.2; done; echo finished > /home/agent/data/{result}"


def start_held_job(lab: Lab, box: AgentBox, result: str) -> None:
    cli("exec", "-d", "-u", "1000", box.cid, "sh", "-c", HELD_JOB.format(result=result))
    wait_for("the job", lambda: "sh" in lab.exec(box, "ps", "-o", "comm=", "-u", "1000").stdout)


def release_job(lab: Lab, box: AgentBox) -> None:
    lab.exec(box, "touch", "/tmp/release")


def logs_of(box: AgentBox) -> str:
    done = cli("logs", box.cid, check=False)
    return done.stdout + done.stderr


def in_background(call: Callable[[], T]) -> tuple[threading.Thread, list[T]]:
    """Run `call` in a thread; its result lands in the list."""
    result: list[T] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    return thread, result


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 600, every: float = 0.5) -> None:
    """Wait for an event, not for a time: `timeout` only bounds a test that would otherwise hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)
