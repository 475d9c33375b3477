#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The diagnose stage: read-only deep checks of a node, each reported as a `finding` record
# (docs/protocol.md: id, severity ok/warn/fail, summary, evidence, hint, optional service) and as a
# plain line for a person. Sourced by deploy.sh (which provides emit/log_* from lib/protocol.sh and
# the loaded manifest from lib/manifest.sh), then `stage_diagnose` runs.
#
# Bounded time: every docker call goes through `diag_docker` (a per-call timeout, and an overall
# budget after which docker calls return 124 at once), so a hung daemon costs seconds, not forever.
#
# Secrets: every text that may carry them (container logs, healthcheck output, compose errors, the
# deploy log, override files) goes through `redact` (lib/redact.sh), which replaces the value of every key of
# every <root>/config/*/.env and anything shaped like a token, key or password, before printing.
#
# Also runnable on its own, for SATURN's recover prompt:
#   bash diagnose.sh redact [--root DIR]   stdin -> stdout with the node's secrets redacted
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: diag_docker diag_finding diag_init diag_main diag_remaining diag_usage stage_diagnose
#   sets: DIAG_DOCKER_OK DIAG_FAILS DIAG_LIB DIAG_LOGS DIAG_NODE DIAG_OKS DIAG_REPO DIAG_ROOT
#     DIAG_WARNS
#   reads: DIAGNOSE_BUDGET DIAGNOSE_DOCKER_TIMEOUT HOMELAB_NODE HOMELAB_ROOT LOG_DIR MANIFEST_ERROR
#     MANIFEST_FILE MANIFEST_SERVICES NODE REPO REPO_DIR ROOT

# Run on its own (`diagnose.sh redact`), nothing has read lib/protocol.sh (num_env_to) yet.
if ! declare -F num_env_to >/dev/null; then
  # shellcheck source=protocol.sh
  source "$(dirname -- "${BASH_SOURCE[0]}")/protocol.sh"
fi
num_env_to DIAGNOSE_DOCKER_TIMEOUT DIAGNOSE_DOCKER_TIMEOUT 8 1 3600
num_env_to DIAGNOSE_BUDGET DIAGNOSE_BUDGET 60 1 86400
num_env_to DIAGNOSE_LOG_LINES DIAGNOSE_LOG_LINES 25 1 10000

DIAG_ROOT=""
DIAG_REPO=""
DIAG_LOGS=""
DIAG_NODE=""
DIAG_DEADLINE=0
DIAG_DOCKER_OK=0
DIAG_FAILS=0
DIAG_WARNS=0
DIAG_OKS=0

# The checks live beside this file; read them now, like deploy.sh reads every library at start.
DIAG_LIB="${BASH_SOURCE[0]%/*}"
# (no fork when deploy.sh read it by its absolute path, as it always does)
[[ "${DIAG_LIB}" == /* && "${DIAG_LIB}" != */./* && "${DIAG_LIB}" != */../* && "${DIAG_LIB}" != "${BASH_SOURCE[0]}" ]] ||
  DIAG_LIB="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
# Run on its own (`diagnose.sh redact`), nothing has read lib/redact.sh yet.
if ! declare -F redact >/dev/null; then
  # shellcheck source=redact.sh
  source "${DIAG_LIB}/redact.sh"
fi
# shellcheck source=diagnose-node.sh
source "${DIAG_LIB}/diagnose-node.sh"
# shellcheck source=diagnose-services.sh
source "${DIAG_LIB}/diagnose-services.sh"

# --- findings ---------------------------------------------------------------------------------------

# diag_finding ID SEVERITY SUMMARY EVIDENCE HINT [SERVICE]: one record and one line for a person.
diag_finding() {
  local id="$1"
  local severity="$2"
  local summary
  local evidence
  local hint="$5"
  local service="${6:-}"
  summary="$(redact "$3")"
  evidence="$(redact "$4")"
  local -a fields=(id "${id}" severity "${severity}" summary "${summary}" evidence "${evidence}" hint "${hint}")
  [[ -n "${service}" ]] && fields+=(service "${service}")
  emit finding "${fields[@]}"
  case "${severity}" in
    fail) DIAG_FAILS=$((DIAG_FAILS + 1)) ;;
    warn) DIAG_WARNS=$((DIAG_WARNS + 1)) ;;
    *) DIAG_OKS=$((DIAG_OKS + 1)) ;;
  esac
  local tag
  tag="$(printf '%-4s' "${severity^^}")"
  log_info "[${tag}] ${id}${service:+ (${service})}: ${summary}"
  if [[ "${severity}" != ok && -n "${hint}" ]]; then
    log_info "       fix: ${hint}"
  fi
}

# --- bounded docker ---------------------------------------------------------------------------------

diag_remaining() {
  local left=$((DIAG_DEADLINE - EPOCHSECONDS))
  ((left < 0)) && left=0
  printf '%s' "${left}"
}

# docker with a per-call timeout inside the overall budget; 124 when out of time.
diag_docker() {
  local left
  left="$(diag_remaining)"
  ((left > 0)) || return 124
  local limit="${DIAGNOSE_DOCKER_TIMEOUT}"
  ((left < limit)) && limit="${left}"
  timeout -k 2 "${limit}" docker "$@"
}

# --- the stage --------------------------------------------------------------------------------------

# Fills DIAG_* from deploy.sh's globals when present, else from the environment and this file's place.
diag_init() {
  DIAG_ROOT="${ROOT:-${HOMELAB_ROOT:-/opt/homelab}}"
  DIAG_REPO="${REPO_DIR:-${REPO:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../../.." && pwd)}}"
  DIAG_LOGS="${LOG_DIR:-${DIAG_ROOT}/logs/deploy}"
  DIAG_NODE="${NODE:-${HOMELAB_NODE:-}}"
  DIAG_DEADLINE=$((EPOCHSECONDS + DIAGNOSE_BUDGET))
  DIAG_DOCKER_OK=0
  DIAG_FAILS=0
  DIAG_WARNS=0
  DIAG_OKS=0
  secrets_load "${DIAG_ROOT}"
}

stage_diagnose() {
  diag_init
  log_info "checking ${DIAG_NODE:-this node} (root ${DIAG_ROOT}, checkout ${DIAG_REPO})"
  diag_check_docker
  diag_check_disks
  diag_check_memory
  diag_check_load
  diag_check_git
  diag_check_last_log
  if ! manifest_load "${MANIFEST_FILE:-${DIAG_REPO}/hosts/${DIAG_NODE}/node.manifest}"; then
    diag_finding manifest fail "The node manifest cannot be read: ${MANIFEST_ERROR}" "${MANIFEST_ERROR}" \
      "Run homelab manifest on SATURN, commit, then homelab run prepare --node ${DIAG_NODE}"
  fi
  diag_check_gpu
  local service
  for service in "${MANIFEST_SERVICES[@]}"; do
    diag_check_service "${service}"
  done
  if (($(diag_remaining) == 0)); then
    diag_finding diagnose.budget warn "Diagnose ran out of its ${DIAGNOSE_BUDGET}s budget; later docker checks were skipped" "" \
      "Docker is slow to answer: see the docker.daemon finding"
  fi
  log_info "${DIAG_FAILS} failing, ${DIAG_WARNS} warning(s), ${DIAG_OKS} ok"
  return 0
}

# --- standalone -------------------------------------------------------------------------------------

diag_usage() {
  printf 'Usage: diagnose.sh redact [--root DIR]   (stdin -> stdout, secrets of DIR/config/*/.env redacted)\n' >&2
}

diag_main() {
  local cmd="${1:-}"
  shift || true
  local root="${HOMELAB_ROOT:-/opt/homelab}"
  while (($# > 0)); do
    case "$1" in
      --root)
        root="${2:?--root needs a directory}"
        shift 2
        ;;
      *)
        diag_usage
        return 2
        ;;
    esac
  done
  case "${cmd}" in
    redact)
      secrets_load "${root}"
      local text
      text="$(cat)"
      redact "${text}"
      printf '\n'
      ;;
    *)
      diag_usage
      return 2
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -Eeuo pipefail
  trap 'printf "diagnose.sh: failed at line %s: %s\n" "${LINENO}" "${BASH_COMMAND}" >&2' ERR
  diag_main "$@"
fi
