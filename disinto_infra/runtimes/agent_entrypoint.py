"""The agent container's entrypoint: the image's own `/entrypoint.sh`, wrapped so it can be told healthy and stopped.

The factory's entrypoint runs as PID 1 and traps nothing, and its `log()` after `lib/env.sh` writes to
stdout only, so neither a log file nor a signal tells the loop's state. The wrapper (bash, PID 1, passed
inline so the image stays the factory's) runs it as a child and reads its output: the loop line marks
this start as healthy. On SIGUSR1 (a drain, runtimes/drain.py) it freezes the loop, so no new poll
starts; on SIGTERM it also waits for the agent user's processes (the jobs in flight) and exits.
Evidence: docs/decisions/agent-stop-and-health.md, docs/decisions/drain-before-stop.md.
"""

from __future__ import annotations

# The factory's loop announces itself with this line (docker/agents/entrypoint.sh, before `while true`).
LOOP_LINE = "Entering polling loop"
# Per start of the container: the wrapper empties it first, so nothing survives a restart.
STATE_DIR = "/run/disinto-agent"
# Every poll and session runs as the image's agent user (`gosu agent`); the loop itself runs as root.
AGENT_UID = 1000
IMAGE_ENTRYPOINT = "/entrypoint.sh"
PROGRAM_NAME = "disinto-agent"
DRAIN_SIGNAL = "USR1"
DRAIN_LINE = "drain: the loop starts no new poll"
STOP_LINE = "stop: the loop starts no new poll; waiting for the jobs in flight"
STOPPED_LINE = "stop: no job in flight; exiting"


def script(state: str = STATE_DIR, entrypoint: str = IMAGE_ENTRYPOINT, agent_uid: int = AGENT_UID) -> str:
    """The wrapper's bash text; the arguments exist so the tests can run it outside a container."""
    return f"""\
set -u
rm -rf {state} && mkdir -p {state}
say() {{ printf '[%s] {PROGRAM_NAME}: %s\\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$*"; }}

# The image's entrypoint, its output ours (docker logs), each line read for the loop's start.
{entrypoint} "$@" > >(
  while IFS= read -r line; do
    printf '%s\\n' "$line"
    printf '%s\\n' "$line" > {state}/last
    case $line in *'{LOOP_LINE}'*) : > {state}/loop ;; esac
  done
) 2>&1 &
loop=$!
echo "$loop" > {state}/pid

# Jobs in flight: the agent user's processes, less the finished ones no one has reaped yet.
busy() {{ ps -o stat= -u {agent_uid} 2>/dev/null | grep -qv '^Z'; }}

freeze() {{ kill -STOP "$loop" 2>/dev/null; rm -f {state}/loop; }}
drain() {{ freeze; say "{DRAIN_LINE}"; }}
stop() {{
  freeze
  say "{STOP_LINE}"
  while busy; do sleep 1; done
  say "{STOPPED_LINE}"
  exit 0
}}
trap drain {DRAIN_SIGNAL}
trap stop TERM INT

# A trapped signal (a drain) ends `wait` early: wait again while the entrypoint lives.
wait "$loop"
status=$?
while kill -0 "$loop" 2>/dev/null; do wait "$loop"; status=$?; done
say "the entrypoint exited with status $status"
exit "$status"
"""


def health_script(state: str = STATE_DIR) -> str:
    """Healthy: the loop line was seen in this start and the entrypoint still runs."""
    return (
        f'if [ -f {state}/loop ] && kill -0 "$(cat {state}/pid)" 2>/dev/null; then exit 0; fi; '
        f'echo "agent loop not running in this start; last entrypoint line: $(cat {state}/last 2>/dev/null)"; exit 1'
    )


SCRIPT = script()
# Docker runs the list as is: bash -c SCRIPT, with $0 naming the wrapper in `ps` and in bash's errors.
ENTRYPOINT = ["/bin/bash", "-c", SCRIPT, PROGRAM_NAME]
HEALTH_SCRIPT = health_script()
LOOP_PID = f"{STATE_DIR}/pid"
