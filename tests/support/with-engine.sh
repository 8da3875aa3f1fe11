#!/usr/bin/env bash
# Run a command with a Docker daemon answering, for the engine tests (docs/engine-tests.md).
#
#   tests/support/with-engine.sh python -m pytest -q
#
# A daemon that already answers is used as it is. Otherwise, as root, this installs Debian's
# docker.io (and debootstrap, which the agents image build needs) when missing, starts dockerd in
# the background, waits for it, runs the command, and stops the daemon it started. Without root
# and without a daemon the command runs anyway and the engine tests skip, saying why; with CI=true
# (or DISINTO_ENGINE_REQUIRED=1) a skip is an error instead.
set -uo pipefail

if [ "${CI:-}" = "true" ]; then
  export DISINTO_ENGINE_REQUIRED=1
fi
# Debian's client, when both it and another are installed: the engine tests talk to Debian's daemon.
docker_cli() { if [ -x /usr/bin/docker ]; then /usr/bin/docker "$@"; else docker "$@"; fi; }
answers() { docker_cli info >/dev/null 2>&1; }
say() { echo "with-engine: $*" >&2; }

started=""
stop_daemon() {
  if [ -n "$started" ]; then
    kill "$started" 2>/dev/null && wait "$started" 2>/dev/null
    say "stopped the dockerd it started (pid $started)"
  fi
}
trap stop_daemon EXIT

if answers; then
  say "a Docker daemon answers: using it"
elif [ "$(id -u)" != 0 ]; then
  say "no Docker daemon answers and this is not root: the engine tests will skip"
else
  missing=()
  [ -x /usr/sbin/dockerd ] || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; } >/tmp/with-engine-apt.log 2>&1 \
      || { tail -20 /tmp/with-engine-apt.log >&2; say "could not install ${missing[*]}"; }
  fi
  if [ -x /usr/sbin/dockerd ]; then
    log=$(mktemp /tmp/dockerd.XXXXXX.log)
    /usr/sbin/dockerd >"$log" 2>&1 &
    started=$!
    for _ in $(seq 1 60); do answers && break; sleep 1; done
    if answers; then
      say "started dockerd (pid $started, log $log)"
    else
      tail -20 "$log" >&2
      say "dockerd did not answer within 60 s"
    fi
  fi
fi

"$@"
