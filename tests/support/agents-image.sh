#!/usr/bin/env bash
# Build the factory's agents image for the engine tests, from the factory's own Dockerfile, with no
# network inside any container (docs/engine-tests.md).
#
#   tests/support/agents-image.sh FACTORY_SRC TAG
#
# FACTORY_SRC: a folder holding the factory's source (Dockerfile at docker/agents/Dockerfile).
# Needs root (debootstrap, chroot) and a running Docker daemon. The Dockerfile's apt, pip and npm
# packages are read from its own RUN lines and installed from the host; the three binaries it
# downloads from outside (sops, tea, yq) become stubs; every other step of the Dockerfile
# (useradd, COPY, chmod, VOLUME, WORKDIR, ENTRYPOINT) is the factory's, run by `docker build`.
set -euo pipefail

src=$1
tag=$2
dockerfile="$src/docker/agents/Dockerfile"
[ -f "$dockerfile" ] || { echo "agents-image: no $dockerfile" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "agents-image: needs root (debootstrap, chroot)" >&2; exit 2; }

work=$(mktemp -d /var/tmp/agents-image.XXXXXX)
rootfs="$work/rootfs"
cleanup() {
  umount "$rootfs/proc" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The Dockerfile's RUN lines joined across their continuations.
joined=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$dockerfile")
apt_packages=$(grep -oP 'apt-get install -y --no-install-recommends\s+\K[^&]+' <<<"$joined" | head -1)
pip_packages=$(grep -oP 'pip3 install --break-system-packages\s+\K[^&]+' <<<"$joined" | head -1)
npm_package=$(grep -oP '^RUN npm install -g \K\S+' <<<"$joined" | head -1)
[ -n "$apt_packages" ] && [ -n "$pip_packages" ] && [ -n "$npm_package" ] || {
  echo "agents-image: could not read the apt, pip or npm packages from $dockerfile" >&2
  exit 2
}

mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
echo "agents-image: debootstrap bookworm from $mirror" >&2
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}

echo "agents-image: apt packages: $apt_packages" >&2
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
mount -t proc proc "$rootfs/proc"
chroot "$rootfs" apt-get update -q >/dev/null
# shellcheck disable=SC2086  # the package list is words
DEBIAN_FRONTEND=noninteractive chroot "$rootfs" apt-get install -y -q --no-install-recommends $apt_packages >/dev/null
umount "$rootfs/proc"

echo "agents-image: pip packages: $pip_packages" >&2
mkdir -p "$work/wheels" "$rootfs/tmp/wheels"
# shellcheck disable=SC2086
python3 -m pip download -q -d "$work/wheels" --only-binary=:all: --python-version 3.11 $pip_packages
cp "$work/wheels"/*.whl "$rootfs/tmp/wheels/"
chroot "$rootfs" sh -c 'pip3 install -q --break-system-packages --no-index /tmp/wheels/*.whl && rm -rf /tmp/wheels'

echo "agents-image: npm package: $npm_package" >&2
npm install -g -q --prefix "$work/npm" "$npm_package" >/dev/null 2>&1
mkdir -p "$rootfs/usr/local/lib/node_modules"
cp -a "$work/npm/lib/node_modules/." "$rootfs/usr/local/lib/node_modules/"
for bin in "$work/npm/bin"/*; do
  ln -sf "$(readlink "$bin" | sed 's#^\.\./lib/#../lib/#')" "$rootfs/usr/local/bin/$(basename "$bin")"
done

# The Dockerfile's downloads from outside: stubs that say so.
for b in sops tea yq; do
  printf '#!/bin/sh\necho "%s: test stub" >&2\nexit 0\n' "$b" >"$rootfs/usr/local/bin/$b"
  chmod +x "$rootfs/usr/local/bin/$b"
done
rm -rf "$rootfs/var/lib/apt/lists"/* "$rootfs/var/cache/apt"/*.bin

base="${tag%%:*}-base:${tag##*:}"
echo "agents-image: import $base" >&2
tar -C "$rootfs" -c . | docker import - "$base" >/dev/null

# The factory's own Dockerfile from here on, less the steps that reach outside.
context="$work/context"
mkdir -p "$context"
cp -a "$src/." "$context/"
{
  echo "FROM $base"
  grep -v -E '^(FROM |RUN (apt-get|curl|npm install))' <<<"$joined" | grep -v -E '^ARG (SOPS|TEA|YQ)_VERSION'
} >"$context/Dockerfile.engine-tests"
echo Dockerfile.engine-tests >>"$context/.dockerignore"
DOCKER_BUILDKIT=0 docker build -q -f "$context/Dockerfile.engine-tests" -t "$tag" "$context" >/dev/null
echo "agents-image: built $tag" >&2
