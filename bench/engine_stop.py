"""How long stopping an agent takes on a real Docker engine, and what it costs the work in flight.

    . .venv/bin/activate
    bash tests/support/with-engine.sh python bench/engine_stop.py   # about 6 minutes; root for the first image build

Each case is one agent of the real program's registrations, in the engine tests' lab (an --internal
network, a Forgejo stand-in, the factory's own image: docs/engine-tests.md), stopped by the
provider's delete (stop with `destroy_grace_seconds`, then remove). A job is a session stand-in run as
the agent user (`sleep N`, then a file written on the data volume). The two baselines run the
factory's entrypoint without our wrapper: with `init: false` (bash as PID 1, what 0.4 shipped) and
with `init: true` (docker-init forwards the signal). The drain cases replay a replacement as the
engine orders it: `<name>-drain`'s delete, then the stop. Prints one JSON object; `--readme`
rewrites the tables in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from disinto_infra.program.plan import reveal  # noqa: E402
from disinto_infra.runtimes import agent_entrypoint  # noqa: E402
from tests.support.docker_engine import ProviderDouble, cli  # noqa: E402
from tests.support.engine_lab import AgentBox, Lab, agents_image, run_command, wait_for  # noqa: E402

GRACE = 30
JOB_SECONDS = 15
JOB = "sleep {seconds}; echo finished > /home/agent/data/job-done"


def _loop_running(lab: Lab, cid: str) -> bool:
    return agent_entrypoint.LOOP_LINE in cli("logs", cid, check=False).stdout


def _job_finished(lab: Lab, box: AgentBox) -> bool:
    return lab.data_file(box, "job-done") == "finished"


def case(lab: Lab, name: str, job: int | None, grace: int, wrapped: bool = True, init: bool = False) -> dict[str, Any]:
    box = lab.agent(name, stopGraceSeconds=str(grace))
    if not wrapped:  # the factory's entrypoint as the image runs it
        cli("rm", "-f", box.cid)
        inputs = {k: v for k, v in box.inputs.items() if k != "entrypoints"}
        box.cid = ProviderDouble(lab.engine).create({**inputs, "init": init})
    wait_for("the loop", lambda: _loop_running(lab, box.cid), timeout=180)
    if job is not None:
        cli("exec", "-d", "-u", "1000", box.cid, "sh", "-c", JOB.format(seconds=job))
        wait_for("the job", lambda: "sleep" in lab.exec(box, "ps", "-o", "comm=", "-u", "1000").stdout)
    stopped = lab.stop(box)
    after = stopped.logs.split(agent_entrypoint.STOP_LINE, 1)[1] if agent_entrypoint.STOP_LINE in stopped.logs else ""
    return {
        "grace_s": grace,
        "job_s": job,
        "stop_s": round(stopped.seconds, 1),
        "stop_over_grace": round(stopped.seconds / grace, 2),
        "exit_code": stopped.exit_code,
        "job_finished": _job_finished(lab, box) if job is not None else None,
        "polls_started_during_stop": None if not wrapped else len(re.findall(r"Running \w+-poll", after)),
    }


def drained(lab: Lab, name: str, session: int | None, bound: int) -> dict[str, Any]:
    """A replacement as the engine orders it: `<name>-drain`'s delete, then the provider's stop."""
    box = lab.agent(name, drainTimeoutSeconds=str(bound), stopGraceSeconds="10")
    wait_for("the loop", lambda: _loop_running(lab, box.cid), timeout=180)
    if session is not None:
        cli("exec", "-d", "-u", "1000", box.cid, "sh", "-c", JOB.format(seconds=session))
        wait_for("the session", lambda: "sleep" in lab.exec(box, "ps", "-o", "comm=", "-u", "1000").stdout)
    drain = reveal(lab.registered(name, drainTimeoutSeconds=str(bound)).named(f"{name}-drain").inputs)
    done = run_command({**drain, "create": drain["delete"]})
    stopped = lab.stop(box)
    return {
        "bound_s": bound,
        "session_s": session,
        "drain_s": round(done.seconds, 1),
        "stop_s": round(stopped.seconds, 1),
        "replaced_after_s": round(done.seconds + stopped.seconds, 1),
        "session_finished": _job_finished(lab, box) if session is not None else None,
        "cut_named": "the stop cuts these sessions" in done.output,
    }


def measure() -> dict[str, Any]:
    image = agents_image()
    with tempfile.TemporaryDirectory() as tmp:
        lab = Lab(image, Path(tmp) / "factory").open()
        try:
            lab.start_forge()
            return {
                "drain_busy_90s_session": drained(lab, "b-drain-busy", 90, 7200),
                "drain_idle": drained(lab, "b-drain-idle", None, 7200),
                "drain_session_past_the_bound": drained(lab, "b-drain-bound", 600, 20),
                "idle": case(lab, "b-idle", None, GRACE),
                "job_in_flight": case(lab, "b-busy", JOB_SECONDS, GRACE),
                "job_longer_than_grace": case(lab, "b-long", 600, 10),
                "baseline_init_false_idle": case(lab, "b-old", None, GRACE, wrapped=False, init=False),
                "baseline_init_true_job": case(lab, "b-init", JOB_SECONDS, GRACE, wrapped=False, init=True),
            }
        finally:
            lab.close()


TABLE_START, TABLE_END = "<!-- engine-stop:start -->", "<!-- engine-stop:end -->"


def table(results: dict[str, Any]) -> str:
    drains = {k: v for k, v in results.items() if k.startswith("drain_")}
    stops = {k: v for k, v in results.items() if not k.startswith("drain_")}
    rows = [
        "| replacement | drain bound | session | drain took | stop took | replaced after | session finished | cut named |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in drains.items():
        rows.append(
            f"| {name} | {r['bound_s']} s | {r['session_s'] or '-'} | {r['drain_s']} s | {r['stop_s']} s | "
            f"{r['replaced_after_s']} s | {'-' if r['session_finished'] is None else r['session_finished']} | {r['cut_named']} |"
        )
    return "\n".join(rows) + "\n\n" + _stop_table(stops)


def _stop_table(results: dict[str, Any]) -> str:
    rows = [
        "| case | grace | job | stop took | ÷ grace | exit | job finished | polls started while stopping |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        rows.append(
            f"| {name} | {r['grace_s']} s | {r['job_s'] or '-'} | {r['stop_s']} s | {r['stop_over_grace']} | "
            f"{r['exit_code']} | {'-' if r['job_finished'] is None else r['job_finished']} | "
            f"{'-' if r['polls_started_during_stop'] is None else r['polls_started_during_stop']} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readme", action="store_true", help="rewrite the table in bench/README.md")
    args = parser.parse_args()
    results = measure()
    print(json.dumps(results, indent=2))
    if args.readme:
        readme = ROOT / "bench" / "README.md"
        text = readme.read_text()
        start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
        readme.write_text(text[:start] + "\n" + table(results) + "\n" + text[end:])


if __name__ == "__main__":
    main()
