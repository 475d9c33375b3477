#!/usr/bin/env bash
# Bootstrap a homelab node: the tools, the folder layout, the repo checkout and the config folders
# that `deploy.sh prepare` expects. SATURN runs it over the node's transport with the script on
# stdin (`homelab node bootstrap <name>` sends `bash -s -- ARGS`), so it runs BEFORE the repo
# exists on the node. It depends on one file only, scripts/deploy/lib/protocol.sh (the node-protocol
# emitter deploy.sh uses too): SATURN sends that library first on the same stdin; run by hand from
# a checkout, the script sources it from beside itself.
#
#   bootstrap-node.sh --node NAME --remote URL [--branch B] [--root DIR] [--repo DIR]
#                     [--transport tailscale-ssh|ssh|local] [--yes]
#
# Checks Docker (engine reachable, Compose v2), Git and Tailscale; installs missing packages only
# with --yes (the operator confirmed on SATURN). Creates <root>/{repo,state/deploy,logs/deploy,config},
# clones the repo (or fetches it), and creates <root>/config/<service>/ with a README naming the
# secrets the service needs (names from hosts/<node>/node.manifest, never values).
# Idempotent: a second run changes nothing and says so.
#
# Every step is reported as `@homelab/1 step {...}` with stage "bootstrap", a status, a detail and
# `changed` (true when the step changed the node).
# Exit codes: 0 done; 1 a step failed; 2 usage error; 10 packages are missing and --yes was not given.
set -Eeuo pipefail
shopt -s inherit_errexit

readonly EXIT_FAILED=1
readonly EXIT_USAGE=2
readonly EXIT_NEEDS_INSTALL=10
readonly STAGE=bootstrap

NODE=""
REMOTE=""
BRANCH=main
ROOT="${HOMELAB_ROOT:-/opt/homelab}"
ROOT_SOURCE="${HOMELAB_ROOT:+HOMELAB_ROOT on the node}"
ROOT_SOURCE="${ROOT_SOURCE:-the default}"
REPO=""
TRANSPORT=ssh
ASSUME_YES=false
CHANGES=0
MISSING_PACKAGES=()
DIR_CHANGES=()
MANIFEST=""

usage() {
  cat <<'EOF'
Usage: bootstrap-node.sh --node NAME --remote URL [--branch B] [--root DIR] [--repo DIR]
                         [--transport tailscale-ssh|ssh|local] [--yes]
  --node       the node's name in inventory/topology.yaml
  --remote     the Git remote the node fetches from (inventory git.remote)
  --branch     the branch to check out (default main)
  --root       the node's homelab root (default $HOMELAB_ROOT or /opt/homelab)
  --repo       where the repo is checked out (default <root>/repo)
  --transport  how SATURN reaches the node; Tailscale must be up for tailscale-ssh
  --yes        install missing packages (the operator confirmed)
EOF
}

# --- the node protocol (docs/protocol.md) ---------------------------------------------------

# `homelab node bootstrap` pipes scripts/deploy/lib/protocol.sh followed by this file into
# `bash -s`, so `emit` is already defined; run from a checkout, this file sources the library itself.
if ! declare -F emit >/dev/null; then
  # shellcheck source=scripts/deploy/lib/protocol.sh
  source "$(dirname "${BASH_SOURCE[0]}")/../deploy/lib/protocol.sh"
fi
DEPLOY_STAGE_NAME=bootstrap
DEPLOY_LOG=""
DEPLOY_TO_STDOUT=1

# step STATUS NAME DETAIL [changed] [SERVICE]
step() {
  local status=$1
  local name=$2
  local detail=$3
  local changed=${4:-false}
  local service=${5:-}
  local -a fields=(stage "${STAGE}" step "${name}" status "${status}")
  [[ -n ${service} ]] && fields+=(service "${service}")
  fields+=(detail "${detail}" changed:j "${changed}")
  emit step "${fields[@]}"
  log_info "${name}${service:+ ${service}}: ${status}: ${detail}"
  if [[ ${changed} == true ]]; then
    CHANGES=$((CHANGES + 1))
  fi
}

fail() {
  local name=$1
  local detail=$2
  step fail "${name}" "${detail}"
  printf 'bootstrap: %s: %s\n' "${name}" "${detail}" >&2
  exit "${EXIT_FAILED}"
}

on_error() {
  local line=$1
  local cmd=$2
  emit step stage "${STAGE}" step error status fail detail "line ${line}: ${cmd}" changed:j false
  printf 'bootstrap: failed at line %s: %s\n' "${line}" "${cmd}" >&2
}

# --- arguments ------------------------------------------------------------------------------

usage_error() {
  printf 'bootstrap: %s\n' "$1" >&2
  usage >&2
  exit "${EXIT_USAGE}"
}

parse_args() {
  while (($# > 0)); do
    case $1 in
      --node | --remote | --branch | --root | --repo | --transport)
        (($# >= 2)) || usage_error "$1 needs a value"
        case $1 in
          --node) NODE=$2 ;;
          --remote) REMOTE=$2 ;;
          --branch) BRANCH=$2 ;;
          --root) ROOT=$2; ROOT_SOURCE="the inventory" ;;
          --repo) REPO=$2 ;;
          --transport) TRANSPORT=$2 ;;
        esac
        shift 2
        ;;
      --yes) ASSUME_YES=true; shift ;;
      -h | --help) usage; exit 0 ;;
      *) usage_error "unknown argument: $1" ;;
    esac
  done
  [[ -n ${NODE} ]] || usage_error "--node is required"
  [[ -n ${REMOTE} ]] || usage_error "--remote is required"
  [[ ${ROOT} == /* ]] || usage_error "--root must be an absolute path: ${ROOT}"
  [[ -z ${REPO} ]] && REPO="${ROOT}/repo"
  [[ ${REPO} == /* ]] || usage_error "--repo must be an absolute path: ${REPO}"
  case ${TRANSPORT} in
    tailscale-ssh | ssh | local) ;;
    *) usage_error "unknown transport: ${TRANSPORT}" ;;
  esac
}

# --- privileges -----------------------------------------------------------------------------

# as_root CMD...: runs CMD as root (directly, or through sudo without a password prompt).
as_root() {
  if [[ ${EUID} -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    printf 'bootstrap: needs root for: %s (no sudo on this node)\n' "$*" >&2
    return 1
  fi
}

# --- tools ----------------------------------------------------------------------------------

compose_major() {
  local version
  version=$(docker compose version --short 2>/dev/null || true)
  version=${version#v}
  printf '%s\n' "${version%%.*}"
}

# The Debian/Ubuntu package that provides `docker compose` (v2), or nothing.
compose_package() {
  local pkg candidate
  for pkg in docker-compose-plugin docker-compose-v2 docker-compose; do
    candidate=$(apt-cache policy "${pkg}" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
    [[ -n ${candidate} && ${candidate} != "(none)" ]] || continue
    # Debian's docker-compose is Compose v1 before trixie: only version 2+ provides the plugin.
    if [[ ${pkg} == docker-compose && ${candidate#*:} != 2.* ]]; then
      continue
    fi
    printf '%s\n' "${pkg}"
    return
  done
}

check_git() {
  if command -v git >/dev/null 2>&1; then
    step ok git "$(git --version)"
  else
    MISSING_PACKAGES+=(git)
    step fail git "git is not installed"
  fi
}

check_docker() {
  if ! command -v docker >/dev/null 2>&1; then
    MISSING_PACKAGES+=(docker.io)
    step fail docker "docker is not installed"
    return
  fi
  local out
  if ! out=$(docker info --format '{{.ServerVersion}}' 2>&1); then
    fail docker "the docker engine does not answer for user $(id -un): ${out##*$'\n'} (start it, or add the user to the docker group)"
  fi
  step ok docker "docker engine ${out}"
}

check_compose() {
  local major pkg
  if command -v docker >/dev/null 2>&1; then
    major=$(compose_major)
    if [[ ${major} =~ ^[0-9]+$ ]] && ((major >= 2)); then
      step ok compose "docker compose $(docker compose version --short)"
      return
    fi
  fi
  pkg=$(compose_package || true)
  if [[ -z ${pkg} ]]; then
    fail compose "Docker Compose v2 is missing and no package provides it here: install the docker-compose-plugin from Docker's apt repository"
  fi
  MISSING_PACKAGES+=("${pkg}")
  step fail compose "Docker Compose v2 is not installed"
}

check_tailscale() {
  local detail
  if ! command -v tailscale >/dev/null 2>&1; then
    detail="tailscale is not installed (install it and run \`tailscale up\`)"
  elif ! tailscale status >/dev/null 2>&1; then
    detail="tailscale is not up (run \`tailscale up\`)"
  else
    step ok tailscale "tailscale is up"
    return
  fi
  if [[ ${TRANSPORT} == tailscale-ssh ]]; then
    fail tailscale "${detail}; the node's transport is tailscale-ssh"
  fi
  log_warn "${detail}"
  step skip tailscale "warning: ${detail}; transport ${TRANSPORT} does not need it"
}

install_packages() {
  ((${#MISSING_PACKAGES[@]} > 0)) || return 0
  local list="${MISSING_PACKAGES[*]}"
  if [[ ${ASSUME_YES} != true ]]; then
    step fail packages "missing: ${list}; rerun with --yes to install them"
    exit "${EXIT_NEEDS_INSTALL}"
  fi
  command -v apt-get >/dev/null 2>&1 || fail packages "missing: ${list}; no apt-get on this node: install them by hand"
  step start packages "installing ${list}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || fail packages "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${MISSING_PACKAGES[@]}" ||
    fail packages "apt-get install ${list} failed"
  step ok packages "installed ${list}" true
  MISSING_PACKAGES=()
  verify_installed
}

# After an install: the tools are there, and the login user may use the engine.
verify_installed() {
  local major user
  command -v git >/dev/null 2>&1 || fail git "git is still missing after the install"
  command -v docker >/dev/null 2>&1 || fail docker "docker is still missing after the install"
  major=$(compose_major)
  if ! [[ ${major} =~ ^[0-9]+$ ]] || ((major < 2)); then
    fail compose "docker compose v2 is still missing after the install"
  fi
  user=$(id -un)
  if [[ ${EUID} -ne 0 ]] && ! id -nG | tr ' ' '\n' | grep -qx docker; then
    as_root usermod -aG docker "${user}" || fail docker "cannot add ${user} to the docker group"
    step ok docker-group "added ${user} to the docker group (it takes effect at the next login)" true
  fi
}

check_tools() {
  check_git
  check_docker
  check_compose
  check_tailscale
  install_packages
}

# join_by SEPARATOR ITEM...: the items joined by the separator.
join_by() {
  local sep=$1
  local out=$2
  shift 2
  local item
  for item in "$@"; do
    out+="${sep}${item}"
  done
  printf '%s' "${out}"
}

# --- layout ---------------------------------------------------------------------------------

# ensure_dir DIR MODE: creates DIR or fixes its mode; appends what it changed to DIR_CHANGES.
ensure_dir() {
  local dir=$1
  local mode=$2
  local current
  local shown=${dir#"${ROOT}/"}
  if [[ ! -d ${dir} ]]; then
    if ! mkdir -p "${dir}" 2>/dev/null; then
      as_root install -d -o "$(id -u)" -g "$(id -g)" "${dir}" ||
        fail layout "cannot create ${dir} as $(id -un)"
    fi
    chmod "${mode}" "${dir}"
    DIR_CHANGES+=("created ${shown}")
    return
  fi
  [[ -w ${dir} ]] || fail layout "${dir} exists but $(id -un) cannot write to it (sudo chown -R $(id -un): ${dir})"
  current=$(stat -c %a "${dir}")
  if [[ ${current} != "${mode#0}" ]]; then
    chmod "${mode}" "${dir}"
    DIR_CHANGES+=("chmod ${mode} ${shown}")
  fi
}

make_layout() {
  local spec
  DIR_CHANGES=()
  for spec in "${ROOT}:0755" "${REPO}:0755" "${ROOT}/state:0700" "${ROOT}/state/deploy:0700" \
    "${ROOT}/logs:0700" "${ROOT}/logs/deploy:0700" "${ROOT}/config:0700"; do
    ensure_dir "${spec%:*}" "${spec##*:}"
  done
  if ((${#DIR_CHANGES[@]} == 0)); then
    step ok layout "unchanged: ${ROOT}/{repo,state/deploy,logs/deploy,config}"
  else
    step ok layout "${ROOT}: $(join_by ', ' "${DIR_CHANGES[@]}")" true
  fi
}

# --- the repo -------------------------------------------------------------------------------

clone_repo() {
  local out
  if [[ -n $(ls -A "${REPO}") ]]; then
    fail repo "${REPO} is not empty and not a git checkout: move it away and rerun"
  fi
  out=$(git clone --quiet --branch "${BRANCH}" -- "${REMOTE}" "${REPO}" 2>&1) ||
    fail repo "git clone ${REMOTE} failed: ${out//$'\n'/ }"
  step ok repo "cloned ${REMOTE} (${BRANCH} at $(git -C "${REPO}" rev-parse --short HEAD)) into ${REPO}" true
}

fetch_repo() {
  local url remote_sha local_sha out
  url=$(git -C "${REPO}" remote get-url origin 2>/dev/null || true)
  [[ ${url} == "${REMOTE}" ]] ||
    fail repo "${REPO} fetches from '${url}', not ${REMOTE}: fix its origin (git remote set-url origin ${REMOTE}) and rerun"
  out=$(git ls-remote --heads -- "${REMOTE}" "refs/heads/${BRANCH}" 2>&1) ||
    fail repo "git ls-remote ${REMOTE} failed: ${out//$'\n'/ }"
  remote_sha=${out%%[[:space:]]*}
  [[ -n ${remote_sha} ]] || fail repo "branch ${BRANCH} not found on ${REMOTE}"
  local_sha=$(git -C "${REPO}" rev-parse --verify --quiet "refs/remotes/origin/${BRANCH}" || true)
  if [[ ${remote_sha} == "${local_sha}" ]]; then
    step ok repo "unchanged: ${REPO} has origin/${BRANCH} at ${remote_sha:0:7}"
    return
  fi
  out=$(git -C "${REPO}" fetch --quiet origin 2>&1) || fail repo "git fetch failed: ${out//$'\n'/ }"
  step ok repo "fetched origin/${BRANCH}: ${local_sha:0:7} -> ${remote_sha:0:7} (prepare checks it out)" true
}

sync_repo() {
  if [[ -d ${REPO}/.git ]]; then
    fetch_repo
  else
    clone_repo
  fi
}

# --- per-service config folders -------------------------------------------------------------

manifest_path() {
  printf '%s/hosts/%s/node.manifest\n' "${REPO}" "${NODE}"
}

# Sets MANIFEST to the manifest as the remote branch has it (the checkout may be older until
# prepare runs).
read_manifest() {
  local rel="hosts/${NODE}/node.manifest"
  MANIFEST=$(git -C "${REPO}" show "refs/remotes/origin/${BRANCH}:${rel}" 2>/dev/null) ||
    fail manifest "${rel} is not on ${REMOTE} (${BRANCH}): run \`homelab node add ${NODE}\` on SATURN, commit and push"
}

# service_readme SERVICE MANIFEST: the README text for <root>/config/SERVICE/.
service_readme() {
  local service=$1
  local manifest=$2
  local -a secrets=()
  local override=optional
  local kind svc value _rest
  while IFS=$'\t' read -r kind svc value _rest; do
    [[ ${svc} == "${service}" ]] || continue
    case ${kind} in
      secret) secrets+=("${value}") ;;
      override) override=${value} ;;
    esac
  done <<<"${manifest}"
  printf '# %s on %s: host-local configuration\n\n' "${service}" "${NODE}"
  printf 'Written by scripts/bootstrap/bootstrap-node.sh from hosts/%s/node.manifest. Do not commit\n' "${NODE}"
  printf 'anything from this folder: it holds secrets and is never part of the repo.\n\n'
  if ((${#secrets[@]} == 0)); then
    printf 'Secrets: none. deploy.sh still reads .env here when it exists.\n'
  else
    printf 'Secrets: put these keys in %s/config/%s/.env (KEY=value, one a line, mode 0600):\n' "${ROOT}" "${service}"
    printf '  %s\n' "${secrets[@]}"
  fi
  printf '\n'
  if [[ ${override} == required ]]; then
    printf 'Override: REQUIRED. Create docker-compose.override.yml here (host-specific devices, paths).\n'
  else
    printf 'Override: optional. A docker-compose.override.yml here is merged when present.\n'
  fi
}

# write_if_changed FILE TEXT: writes atomically (temp file in the same folder); prints "changed".
write_if_changed() {
  local file=$1
  local text=$2
  local tmp
  if [[ -f ${file} ]] && [[ $(<"${file}") == "${text%$'\n'}" ]]; then
    return
  fi
  tmp=$(mktemp "${file}.XXXXXX")
  printf '%s\n' "${text%$'\n'}" >"${tmp}"
  chmod 0640 "${tmp}"
  mv -f "${tmp}" "${file}"
  printf 'changed\n'
}

make_config() {
  local manifest service dir wrote missing
  local -a services=()
  local kind name _rest
  read_manifest
  manifest=${MANIFEST}
  while IFS=$'\t' read -r kind name _rest; do
    [[ ${kind} == service ]] && services+=("${name}")
  done <<<"${manifest}"
  step ok manifest "hosts/${NODE}/node.manifest: ${#services[@]} service(s)${services[*]:+: ${services[*]}}"
  for service in "${services[@]}"; do
    dir="${ROOT}/config/${service}"
    DIR_CHANGES=()
    ensure_dir "${dir}" 0700
    wrote=$(write_if_changed "${dir}/README" "$(service_readme "${service}" "${manifest}")")
    missing=$(missing_secrets "${service}" "${manifest}")
    if ((${#DIR_CHANGES[@]} == 0)) && [[ -z ${wrote} ]]; then
      step ok config "unchanged: ${dir}${missing:+; ${missing}}" false "${service}"
    elif ((${#DIR_CHANGES[@]} == 0)); then
      step ok config "updated ${dir}/README${missing:+; ${missing}}" true "${service}"
    elif [[ ${DIR_CHANGES[0]} == created* ]]; then
      step ok config "created ${dir} with a README${missing:+; ${missing}}" true "${service}"
    else
      step ok config "$(join_by ', ' "${DIR_CHANGES[@]}")${wrote:+, updated README}${missing:+; ${missing}}" true "${service}"
    fi
  done
}

# missing_secrets SERVICE MANIFEST: "secrets to place: A, B" for keys absent from .env (names only).
missing_secrets() {
  local service=$1
  local manifest=$2
  local env_file="${ROOT}/config/${service}/.env"
  local -a missing=()
  local kind svc key _rest
  while IFS=$'\t' read -r kind svc key _rest; do
    [[ ${kind} == secret && ${svc} == "${service}" ]] || continue
    if [[ ! -f ${env_file} ]] || ! grep -q "^[[:space:]]*\(export[[:space:]]\+\)\?${key}=" "${env_file}"; then
      missing+=("${key}")
    fi
  done <<<"${manifest}"
  ((${#missing[@]} == 0)) || printf 'secrets to place in %s: %s\n' "${env_file}" "$(IFS=,; printf '%s' "${missing[*]}")"
}

# --- main -----------------------------------------------------------------------------------

main() {
  parse_args "$@"
  # The script itself may arrive on stdin (bash -s): nothing below may read what follows it.
  exec </dev/null
  trap 'on_error "${LINENO}" "${BASH_COMMAND}"' ERR
  umask 022
  log_info "bootstrapping ${NODE} into ${ROOT} from ${REMOTE} (${BRANCH})"
  # The root and who chose it: SATURN compares it with the inventory's.
  step ok root "${ROOT} (from ${ROOT_SOURCE})"
  check_tools
  make_layout
  sync_repo
  make_config
  if ((CHANGES == 0)); then
    step ok summary "unchanged: ${NODE} was already bootstrapped; nothing changed"
  else
    step ok summary "bootstrapped ${NODE}: ${CHANGES} change(s); ready for the prepare stage" true
  fi
}

if [[ "${BASH_SOURCE[0]:-$0}" == "$0" ]]; then
  main "$@"
fi
