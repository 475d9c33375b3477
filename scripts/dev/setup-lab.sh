#!/usr/bin/env bash
# Install and start the real parts the tests use: Docker engine + Compose v2,
# a local busybox image, Debian's Docker distribution registry on 127.0.0.1 (HOMELAB_LAB_REGISTRY,
# default 127.0.0.1:5000), OpenSSH server, tmux, shellcheck, bats, ansible (bench).
# Idempotent: a second run only checks. Needs root and Debian's package registry.
#
#   scripts/dev/setup-lab.sh            install what is missing, start dockerd
#   scripts/dev/setup-lab.sh --no-apt   only start what is installed
set -Eeuo pipefail

readonly COMPOSE_PLUGIN=/usr/local/lib/docker/cli-plugins/docker-compose
readonly DOCKERD_LOG=/var/log/homelab-lab-dockerd.log
readonly APT_PACKAGES=(docker.io openssh-server tmux shellcheck bats busybox-static git ansible iproute2 util-linux docker-registry curl)
readonly REGISTRY_ADDR="${HOMELAB_LAB_REGISTRY:-127.0.0.1:5000}"
readonly REGISTRY_DIR=/var/lib/homelab-lab/registry
readonly REGISTRY_LOG=/var/log/homelab-lab-registry.log

log() { printf 'setup-lab: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

trap 'die "line ${LINENO}: ${BASH_COMMAND}"' ERR

need_root() {
  [[ ${EUID} -eq 0 ]] || die "run as root (it installs Debian packages and starts dockerd)"
}

missing_packages() {
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "${pkg}"
  done
}

install_packages() {
  local -a missing
  local list
  list="$(missing_packages)"
  mapfile -t missing < <(printf '%s' "${list}")
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "apt packages present"
    return
  fi
  log "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The mirror this machine already uses, read from its own sources file.
debian_mirror() {
  local uri
  uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  if [[ -z ${uri} ]]; then
    uri=$(awk '$1 == "deb" && $3 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  fi
  [[ -n ${uri} ]] || die "cannot find the Debian mirror in /etc/apt/sources.list.d/debian.sources"
  printf '%s\n' "${uri}"
}

# Compose v2: bookworm only has v1; trixie's docker-compose package has the v2 plugin.
install_compose_v2() {
  if [[ -x ${COMPOSE_PLUGIN} ]] && docker compose version >/dev/null 2>&1; then
    local version
    version="$(docker compose version --short)"
    log "compose v2 present: ${version}"
    return
  fi
  local tmp opts mirror
  tmp=$(mktemp -d)
  mkdir -p "${tmp}/lists/partial" "${tmp}/src"
  mirror="$(debian_mirror)"
  printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "${mirror}" >"${tmp}/src/t.sources"
  opts=(-oDir::Etc::SourceList=/dev/null "-oDir::Etc::SourceParts=${tmp}/src" "-oDir::State::Lists=${tmp}/lists")
  apt-get "${opts[@]}" update -qq
  (cd "${tmp}" && apt-get "${opts[@]}" download docker-compose >/dev/null)
  dpkg -x "${tmp}"/docker-compose_*.deb "${tmp}/x"
  install -D "${tmp}/x/usr/libexec/docker/cli-plugins/docker-compose" "${COMPOSE_PLUGIN}"
  rm -rf "${tmp}"
  local installed
  installed="$(docker compose version --short)"
  log "compose v2 installed: ${installed}"
}

start_dockerd() {
  if docker info >/dev/null 2>&1; then
    log "docker engine answering"
    return
  fi
  command -v dockerd >/dev/null || die "dockerd not found after install"
  log "starting dockerd (no bridge, no iptables)"
  setsid dockerd --bridge=none --iptables=false --ip6tables=false >"${DOCKERD_LOG}" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 120; i++)); do
    docker info >/dev/null 2>&1 && { log "docker engine up"; return; }
    sleep 0.5
  done
  tail -n 20 "${DOCKERD_LOG}" >&2 || true
  die "docker engine did not answer within 60 s (log: ${DOCKERD_LOG})"
}

# No registry is reachable: build busybox:1.36 from Debian's busybox-static.
import_busybox_image() {
  if docker image inspect busybox:1.36 >/dev/null 2>&1; then
    log "image busybox:1.36 present"
    return
  fi
  local root applet
  root=$(mktemp -d)
  mkdir -p "${root}/bin" "${root}/tmp" "${root}/www" "${root}/etc"
  cp /bin/busybox "${root}/bin/busybox"
  for applet in sh ash cat echo env false true grep head httpd ls mkdir nc printf ps rm sed sleep tail test wget kill date id; do
    ln -s busybox "${root}/bin/${applet}"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"${root}/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"${root}/etc/group"
  tar -C "${root}" -c . | docker import -c 'ENV PATH=/bin' - busybox:1.36 >/dev/null
  rm -rf "${root}"
  log "image busybox:1.36 imported"
}

registry_answers() {
  curl -fsS --max-time 2 -o /dev/null "http://${REGISTRY_ADDR}/v2/" 2>/dev/null
}

# The Docker distribution registry on loopback (Docker pushes to 127.0.0.0/8 without TLS). Debian's
# service may run it already (systemd); in a container without systemd start the binary with a
# config of our own. Waits for /v2/ to answer.
start_registry() {
  [[ ${REGISTRY_ADDR} == 127.* ]] || die "HOMELAB_LAB_REGISTRY must be on 127.0.0.0/8, not ${REGISTRY_ADDR}"
  if registry_answers; then
    log "registry answering on ${REGISTRY_ADDR}"
    return
  fi
  command -v docker-registry >/dev/null || die "docker-registry not found (apt-get install docker-registry)"
  mkdir -p "${REGISTRY_DIR}/data"
  printf 'version: 0.1\nlog: { level: warn }\nstorage: { filesystem: { rootdirectory: %s }, delete: { enabled: true } }\nhttp: { addr: "%s" }\n' \
    "${REGISTRY_DIR}/data" "${REGISTRY_ADDR}" >"${REGISTRY_DIR}/config.yml"
  log "starting docker-registry on ${REGISTRY_ADDR}"
  setsid docker-registry serve "${REGISTRY_DIR}/config.yml" >"${REGISTRY_LOG}" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 100; i++)); do
    registry_answers && { log "registry up on ${REGISTRY_ADDR}"; return; }
    sleep 0.2
  done
  tail -n 20 "${REGISTRY_LOG}" >&2 || true
  die "the registry did not answer on http://${REGISTRY_ADDR}/v2/ within 20 s (log: ${REGISTRY_LOG})"
}

prepare_sshd() {
  mkdir -p /run/sshd
  chmod 0755 /run/sshd
  [[ -x /usr/sbin/sshd ]] || die "/usr/sbin/sshd missing"
  log "sshd ready (tests start their own instances on loopback)"
}

main() {
  need_root
  if [[ ${1:-} != --no-apt ]]; then
    install_packages
    install_compose_v2
  fi
  start_dockerd
  import_busybox_image
  start_registry
  prepare_sshd
  log "lab ready"
}

main "$@"
