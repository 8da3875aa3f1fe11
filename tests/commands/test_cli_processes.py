"""The CLI run as a process (issue 28).

Item 3: Ctrl-C, a reader that went away and a full disk end a command with one line and the shell's
exit code, never a traceback; the interrupt is sent once the command is seen waiting (an event),
never after a sleep: on a server that never answers, or, for `plan`, on a mock held mid-registration. Item 8: concurrent hires cannot overbook a model server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "factory" / "projects" / "demo.toml"


def as_at_a_terminal() -> None:
    """Ctrl-C's default in the child, as a shell at a terminal gives it: a suite started in the
    background (`pytest &`) ignores SIGINT, and a child that inherits that never sees the interrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "disinto_infra", *args],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        preexec_fn=as_at_a_terminal,
        **kwargs,
    )


def test_a_full_disk_is_one_line_and_exit_1():
    with open("/dev/full", "wb") as full:
        done = cli("plan", "--toml", str(DEMO), stdout=full)
        err = done.communicate(timeout=600)[1].decode()
    assert done.returncode == 1
    assert err == "cannot write the output: No space left on device\n"


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_closed_stdout_is_one_line_and_exit_1(command):
    """`plan >&-`: Python starts with no sys.stdout at all (it crashed in main's flush)."""
    done = subprocess.run(
        [sys.executable, "-m", "disinto_infra", command, "--toml", str(DEMO)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(1),
        timeout=600,
    )
    assert (done.returncode, done.stderr.decode()) == (1, "cannot write the output: stdout is closed\n")


def test_a_reader_that_went_away_is_quiet_and_exit_141():
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head` that has already quit
    done = cli("plan", "--toml", str(DEMO), stdout=write_end)
    os.close(write_end)
    err = done.communicate(timeout=600)[1].decode()
    assert (done.returncode, err) == (128 + signal.SIGPIPE, "")


class Silent:
    """A server that takes connections and never answers; `reached` is set at the first one."""

    def __enter__(self) -> Silent:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.reached = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        return self

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            self.reached.set()

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.mark.parametrize("command", ["check", "hire"])
def test_ctrl_c_while_waiting_on_a_server_is_one_line_and_exit_130(tmp_path, command):
    toml = tmp_path / "projects" / "p.toml"
    toml.parent.mkdir()
    (tmp_path / "formulas").mkdir()
    (tmp_path / "formulas" / "dev.toml").write_text(FORMULA)
    with Silent() as server:
        toml.write_text(
            f'name = "p"\nrepo = "o/p"\n[agents.dev-qwen]\nbase_url = "{server.url}"\nmodel = "m"\n'
            'forge_user = "dev-qwen"\n'
        )
        before = toml.read_bytes()
        if command == "check":
            args = ["check", "--toml", str(toml), "--timeout", "60"]
        else:
            args = ["hire", "dev-qwen2", "dev", "--toml", str(toml), "--local-model", server.url, "--model", "m"]
        running = cli(*args, stdout=subprocess.PIPE)
        while not server.reached.wait(0.1):
            assert running.poll() is None, running.communicate()
        running.send_signal(signal.SIGINT)
        _out, err = running.communicate(timeout=600)
    assert (running.returncode, err.decode()) == (130, "interrupted\n")
    assert toml.read_bytes() == before  # nothing written, nothing half-written
    assert [p.name for p in toml.parent.iterdir()] == ["p.toml"]  # no temporary file left


FORMULA = 'name = "dev"\n[steps]\nfirst = "read the issue"\n'

# `plan` run as `python -m disinto_infra`, except that the mocks' 40th resource holds its worker
# thread for good and says so on stdout first: the interrupt then lands mid-registration, with a
# worker that will never finish (what once left `plan` waiting for kill -9).
HELD_PLAN = """
import runpy, sys, threading
from disinto_infra.program import plan
registered = plan.RecordingMocks.new_resource
count = iter(range(1, 10**6))
def held(self, args):
    if next(count) == 40:
        print("held", flush=True)
        threading.Event().wait()
    return registered(self, args)
plan.RecordingMocks.new_resource = held
sys.argv = ["disinto-infra", *sys.argv[1:]]
runpy.run_module("disinto_infra", run_name="__main__")
"""


def test_ctrl_c_during_plan_of_many_agents_ends_it_with_exit_130(tmp_path):
    toml = tmp_path / "projects" / "p.toml"
    toml.parent.mkdir()
    (tmp_path / "formulas").mkdir()
    (tmp_path / "formulas" / "dev.toml").write_text(FORMULA)
    agents = "".join(
        f'[agents.dev-{n}]\nbase_url = "http://10.10.10.1:8081"\nmodel = "m"\nforge_user = "dev-{n}"\n'
        for n in range(30)
    )
    toml.write_text(f'name = "p"\nrepo = "o/p"\n{agents}')
    running = subprocess.Popen(
        [sys.executable, "-c", HELD_PLAN, "plan", "--toml", str(toml)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=as_at_a_terminal,
    )
    assert running.stdout is not None
    try:
        assert running.stdout.readline() == b"held\n", running.communicate()
        running.send_signal(signal.SIGINT)
        out, err = running.communicate(timeout=600)
    finally:
        running.kill()  # a run that did not end (the old hang) is not left behind
    assert (running.returncode, err.decode()) == (130, "interrupted\n")
    assert out == b""  # no half a plan


def test_concurrent_hires_cannot_overbook_a_one_slot_server(tmp_path):
    """Issue 28 item 8: the slot check and the write under one lock of the TOML: of three hires run
    at once against a server with one free slot, one gets it and two are refused."""
    from tests.support.llama_double import LlamaDouble

    toml = tmp_path / "projects" / "p.toml"
    toml.parent.mkdir()
    (tmp_path / "formulas").mkdir()
    (tmp_path / "formulas" / "dev.toml").write_text(FORMULA)
    toml.write_text('name = "p"\nrepo = "o/p"\n')
    with LlamaDouble(slots=1) as llama:
        runs = [
            cli("hire", f"dev-{i}", "dev", "--toml", str(toml), "--local-model", llama.url, stdout=subprocess.PIPE)
            for i in range(3)
        ]
        results = [(run.communicate(timeout=600), run.returncode) for run in runs]
    codes = sorted(code for _, code in results)
    assert codes == [0, 1, 1], results
    hired = [name for name in ("dev-0", "dev-1", "dev-2") if f"[agents.{name}]" in toml.read_text()]
    assert len(hired) == 1
    assert all("slot" in err.decode() for (_, err), code in results if code == 1)
