#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Makes the two base images the Containerfile builds on from Debian packages,
# for machines that reach a Debian mirror but no container registry (CI):
#   runtime  debootstrap --variant=minbase (glibc, useradd), docs and apt lists removed
#   build    runtime + nodejs, ca-certificates (what scripts/bootstrap.sh needs; Debian's
#            npm would add some 360 packages and two minutes, so bootstrap.sh fetches
#            Bun without it)
# Prints BUILD_IMAGE=… and RUNTIME_IMAGE=… for `eval`, to pass as --build-arg.
#
# Both are cached: as local images tagged with a hash of this recipe, and as
# root-filesystem tarballs under .cache/container-base/ (reimported if the
# image store was wiped). A cold run takes three to four minutes on 2 busy cores.
#
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian), DEBIAN_SUITE (bookworm).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${DEBIAN_SUITE:-bookworm}
build_pkgs="nodejs ca-certificates"
# The build stage fetches Bun and npm packages over TLS, so it trusts what this
# machine trusts (a site CA, e.g. of a TLS-inspecting proxy), as the machine's
# own npm and bun do through NODE_EXTRA_CA_CERTS.
host_cas=/etc/ssl/certs/ca-certificates.crt
recipe=$( (cat "${BASH_SOURCE[0]}" "$host_cas"; echo "$mirror $suite $(dpkg --print-architecture)") | sha256sum | cut -c1-12)
cache=.cache/container-base
runtime_image=localhost/stowage-base:runtime-$suite-$recipe
build_image=localhost/stowage-base:build-$suite-$recipe

log() { printf 'container-base: %s\n' "$*" >&2; }

for tool in podman debootstrap unshare; do
  command -v "$tool" >/dev/null || { log "$tool is missing (bash scripts/install-test-deps.sh container)"; exit 1; }
done
((EUID == 0)) || { log "debootstrap and podman image import need root"; exit 1; }
[[ -f $host_cas ]] || { log "$host_cas is missing (apt-get install ca-certificates)"; exit 1; }

# Runs a command inside the tree with /proc mounted in a private mount
# namespace, so nothing stays mounted if the command fails.
in_root() {
  local root=$1
  shift
  unshare --mount --propagation private -- sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$root" "$@"
}

# Leaves out what a server image never reads; copyright files stay (licences).
slim() {
  local root=$1
  cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$root"/usr/share/{man,info,locale}/*
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
}

runtime_tree() {
  local root=$1
  log "debootstrap --variant=minbase $suite from $mirror"
  debootstrap --variant=minbase --foreign "$suite" "$root" "$mirror" >&2
  # dpkg's fsyncs dominate the second stage; a crash here just means a rebuild.
  echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/unsafe-io"
  in_root "$root" /debootstrap/debootstrap --second-stage >&2
  rm "$root/etc/dpkg/dpkg.cfg.d/unsafe-io"
  slim "$root"
}

build_tree() {
  local root=$1
  log "adding $build_pkgs"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/unsafe-io"
  in_root "$root" sh -c "apt-get update -q -o Acquire::Languages=none && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $build_pkgs" >&2
  rm "$root/etc/dpkg/dpkg.cfg.d/unsafe-io" "$root/etc/resolv.conf"
  cp "$host_cas" "$root/etc/ssl/certs/ca-certificates.crt"
  slim "$root"
}

# Official Debian images set PATH; an imported tarball has no config at all.
import() {
  local image=$1 tarball=$2
  shift 2
  podman import --quiet --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$@" "$tarball" "$image" >/dev/null
}

mkdir -p "$cache"
work=$(mktemp -d "$cache/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
started=$SECONDS
if ! podman image exists "$runtime_image" || ! podman image exists "$build_image"; then
  if [[ ! -f $cache/runtime-$recipe.tar || ! -f $cache/build-$recipe.tar ]]; then
    rm -f "$cache"/runtime-*.tar "$cache"/build-*.tar
    runtime_tree "$work/root"
    tar -C "$work/root" --numeric-owner -cf "$cache/runtime-$recipe.tar.part" . && mv "$cache/runtime-$recipe.tar.part" "$cache/runtime-$recipe.tar"
    build_tree "$work/root"
    tar -C "$work/root" --numeric-owner -cf "$cache/build-$recipe.tar.part" . && mv "$cache/build-$recipe.tar.part" "$cache/build-$recipe.tar"
  fi
  import "$runtime_image" "$cache/runtime-$recipe.tar"
  import "$build_image" "$cache/build-$recipe.tar" --change "ENV NODE_EXTRA_CA_CERTS=$host_cas"
  log "made $runtime_image and $build_image in $((SECONDS - started))s"
  # Bases of an older recipe are never used again.
  podman images --format '{{.Repository}}:{{.Tag}}' localhost/stowage-base | grep -v -e "-$recipe\$" | xargs -r podman rmi >/dev/null 2>&1 || true
fi
echo "BUILD_IMAGE=$build_image"
echo "RUNTIME_IMAGE=$runtime_image"
