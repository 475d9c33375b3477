#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The staged, resumable deployment of one node (docs/protocol.md, docs/node-manifest.md).
#
#   deploy.sh <stage> [--root DIR] [--node NAME] [--ref SHA] [--detach] [--dry-run] [--yes]
#   deploy.sh attach [--run ID] [--from-line N]   follow a run's (default: the last) log
#   deploy.sh unlock [--force]              show the lock holder; --force stops it
#
# Stages: prepare deploy verify diagnose rollback resume up status (up = prepare, deploy, verify
# of --ref in one run).
# Exit codes: 0 ok, 1 stage failed, 2 usage, 3 locked, 4 node not set up, 129/130/143 signal.
set -Eeuo pipefail
# Errexit also inside $(...): a failing command there fails the substitution (lib/run.sh header).
shopt -s inherit_errexit

# Paths without forking when called by an absolute path (as SATURN does): status is a hot path.
DEPLOY_SH="${BASH_SOURCE[0]}"
if [[ "${DEPLOY_SH}" != /* || "${DEPLOY_SH}" == */./* || "${DEPLOY_SH}" == */../* ]]; then
  DEPLOY_SH="$(cd -- "$(dirname -- "${DEPLOY_SH}")" && pwd)/$(basename -- "${DEPLOY_SH}")"
fi
DEPLOY_LIB="${DEPLOY_SH%/*}/lib"
REPO="${DEPLOY_SH%/*}"
if [[ "${REPO}" == */scripts/deploy ]]; then
  REPO="${REPO%/scripts/deploy}"
else
  REPO="$(cd -- "${REPO}/../.." && pwd)"
fi
# shellcheck disable=SC2034 # the name lib/diagnose.sh reads
REPO_DIR="${REPO}"

# Every library is read now, before a checkout can replace these files. `status` (asked of every
# node, often, and never checking out) reads only the ones it uses: parsing the others cost a
# third of its bash time.
# shellcheck source=lib/protocol.sh
source "${DEPLOY_LIB}/protocol.sh"
# shellcheck source=lib/state.sh
source "${DEPLOY_LIB}/state.sh"
# shellcheck source=lib/manifest.sh
source "${DEPLOY_LIB}/manifest.sh"
# shellcheck source=lib/lock.sh
source "${DEPLOY_LIB}/lock.sh"
# shellcheck source=lib/compose.sh
source "${DEPLOY_LIB}/compose.sh"
# shellcheck source=lib/watchdog.sh
source "${DEPLOY_LIB}/watchdog.sh"
# shellcheck source=lib/status.sh
source "${DEPLOY_LIB}/status.sh"
# shellcheck source=lib/drift.sh
source "${DEPLOY_LIB}/drift.sh"
if [[ "${1:-}" == status ]]; then
  # (parse_args reads it; lib/images.sh defines it for the other stages)
  declare -a UPDATE_SERVICES=()
else
  # shellcheck source=lib/redact.sh
  source "${DEPLOY_LIB}/redact.sh"
  # shellcheck source=lib/images.sh
  source "${DEPLOY_LIB}/images.sh"
  # shellcheck source=lib/run.sh
  source "${DEPLOY_LIB}/run.sh"
  # shellcheck source=lib/act.sh
  source "${DEPLOY_LIB}/act.sh"
  # shellcheck source=lib/stages.sh
  source "${DEPLOY_LIB}/stages.sh"
  # shellcheck source=lib/verify.sh
  source "${DEPLOY_LIB}/verify.sh"
  # shellcheck source=lib/follow.sh
  source "${DEPLOY_LIB}/follow.sh"
  # shellcheck source=lib/diagnose.sh
  source "${DEPLOY_LIB}/diagnose.sh"
  # shellcheck source=lib/logs.sh
  source "${DEPLOY_LIB}/logs.sh"
  # shellcheck source=lib/history.sh
  source "${DEPLOY_LIB}/history.sh"
  # shellcheck source=lib/resources.sh
  source "${DEPLOY_LIB}/resources.sh"
fi

readonly USAGE="usage: deploy.sh <prepare|deploy|verify|diagnose|rollback|resume|up|status> [--root DIR] [--node NAME] [--ref SHA] [--detach] [--dry-run] [--yes]
       deploy.sh attach [--run ID] [--from-line N] [--root DIR] [--node NAME]
       deploy.sh unlock [--force] [--root DIR] [--node NAME]
       deploy.sh logs SERVICE [--tail N] [--since WHEN] [--follow] [--root DIR] [--node NAME]
       deploy.sh confirm --run ID [--root DIR] [--node NAME]   confirm what verify --confirm waits for
       deploy.sh history [--root DIR] [--node NAME]   one \`history\` record per recorded stage run
       deploy.sh images [--root DIR] [--node NAME]    one \`image\` record per container: its digest and the tag's in the registry (no pull)
       deploy.sh resources [--root DIR] [--node NAME] one \`resources\` record: containers' CPU and memory, disk of docker's data root and the root
       deploy.sh deploy --update SERVICE|all ...      also pull and recreate a service whose image moved"

STAGE=""
ROOT=""
NODE=""
REF=""
DETACH=0
DRY_RUN=0
ASSUME_YES=0
FROM_LINE=1
RUN_WANTED=""
# Who started the run on SATURN (--by NAME; recorded in the history).
RUN_BY=""
FORCE=0
CHILD=0
LOGS_SERVICE=""
LOGS_TAIL=200
LOGS_SINCE=""
LOGS_FOLLOW=0

usage_error() {
  printf 'deploy.sh: %s\n%s\n' "$1" "${USAGE}" >&2
  exit 2
}

parse_args() {
  (($# > 0)) || usage_error "missing stage"
  STAGE="$1"
  shift
  case "${STAGE}" in
    prepare | deploy | verify | diagnose | rollback | resume | up | status | attach | unlock | history | confirm | watchdog | logs | images | resources) ;;
    -h | --help | help)
      printf '%s\n' "${USAGE}"
      exit 0
      ;;
    *) usage_error "unknown stage '${STAGE}'" ;;
  esac
  while (($# > 0)); do
    case "$1" in
      --root | --node | --ref | --from-line | --run | --by | --confirm-timeout | --update)
        (($# >= 2)) || usage_error "$1 needs a value"
        case "$1" in
          --root) ROOT="$2" ;;
          --node) NODE="$2" ;;
          --ref) REF="$2" ;;
          --from-line) FROM_LINE="$2" ;;
          --run) RUN_WANTED="$2" ;;
          --by) RUN_BY="$2" ;;
          --update) UPDATE_SERVICES+=("$2") ;;
          --confirm-timeout) CONFIRM_TIMEOUT_ARG="$2" ;;
        esac
        shift 2
        ;;
      --detach) DETACH=1 && shift ;;
      --dry-run) DRY_RUN=1 && shift ;;
      --yes | -y) ASSUME_YES=1 && shift ;;
      --force) FORCE=1 && shift ;;
      --confirm) CONFIRM_WANTED=1 && shift ;;
      --child) CHILD=1 && shift ;;
      --tail | --since)
        [[ "${STAGE}" == logs ]] || usage_error "$1 applies to logs"
        (($# >= 2)) || usage_error "$1 needs a value"
        if [[ "$1" == --tail ]]; then LOGS_TAIL="$2"; else LOGS_SINCE="$2"; fi
        shift 2
        ;;
      --follow | -f) LOGS_FOLLOW=1 && shift ;;
      *)
        [[ "${STAGE}" == logs && -z "${LOGS_SERVICE}" && "$1" != -* ]] || usage_error "unknown option '$1'"
        LOGS_SERVICE="$1"
        shift
        ;;
    esac
  done
  [[ -z "${REF}" || "${REF}" =~ ^[0-9a-fA-F]{7,64}$ ]] || usage_error "--ref must be a commit sha, got '${REF}'"
  [[ "${FROM_LINE}" =~ ^[1-9][0-9]*$ ]] || usage_error "--from-line must be a positive number"
  if [[ "${STAGE}" == logs ]]; then
    [[ -n "${LOGS_SERVICE}" ]] || usage_error "logs needs a service name"
    valid_label "${LOGS_SERVICE}" || usage_error "service '${LOGS_SERVICE}' is not a DNS label"
    [[ "${LOGS_TAIL}" =~ ^(all|[0-9]{1,6})$ ]] || usage_error "--tail must be a number of lines (0-999999) or all"
    [[ -z "${LOGS_SINCE}" || "${LOGS_SINCE}" =~ ^[0-9A-Za-z:.+-]{1,40}$ ]] || usage_error "--since must be a duration (10m, 2h) or a timestamp (2026-01-02T15:04:05Z)"
  elif ((LOGS_FOLLOW)); then
    usage_error "--follow applies to logs"
  fi
  [[ -z "${RUN_WANTED}" || "${RUN_WANTED}" =~ ^[A-Za-z0-9._-]+$ ]] || usage_error "--run must be a run id"
  local u
  for u in "${UPDATE_SERVICES[@]}"; do
    valid_label "${u}" || usage_error "--update takes a service name or all, got '${u}'"
  done
  ((${#UPDATE_SERVICES[@]} == 0)) || [[ "${STAGE}" == deploy ]] || usage_error "--update applies to deploy"
  [[ -z "${RUN_BY}" || "${RUN_BY}" =~ ^[A-Za-z0-9._@+-]{1,64}$ ]] || usage_error "--by must be 1-64 of A-Z a-z 0-9 . _ @ + -"
  [[ "${STAGE}" != up || -n "${REF}" ]] || usage_error "up needs --ref SHA (the commit to prepare, deploy and verify)"
  if [[ -n "${CONFIRM_TIMEOUT_ARG}" ]]; then
    if ! [[ "${CONFIRM_TIMEOUT_ARG}" =~ ^[0-9]{1,4}$ ]] || ((10#${CONFIRM_TIMEOUT_ARG} < 1 || 10#${CONFIRM_TIMEOUT_ARG} > 3600)); then
      usage_error "--confirm-timeout must be a number of seconds from 1 to 3600"
    fi
    CONFIRM_TIMEOUT_ARG="$((10#${CONFIRM_TIMEOUT_ARG}))"
  fi
  if ((CONFIRM_WANTED)) || [[ -n "${CONFIRM_TIMEOUT_ARG}" ]]; then
    case "${STAGE}" in
      verify | resume | up) ;;
      *) usage_error "--confirm applies to verify and resume" ;;
    esac
  fi
  if ((DRY_RUN)); then
    case "${STAGE}" in
      prepare | deploy | rollback | up) ;;
      *) usage_error "--dry-run applies to prepare, deploy, rollback and up" ;;
    esac
  fi
  return 0
}

resolve_paths() {
  ROOT="${ROOT:-${HOMELAB_ROOT:-/opt/homelab}}"
  [[ "${ROOT}" == /* ]] || ROOT="$(pwd)/${ROOT}"
  STATE_DIR="${ROOT}/state/deploy"
  LOG_DIR="${ROOT}/logs/deploy"
  CONFIG_DIR="${ROOT}/config"
  STATE_TMP="${STATE_DIR}"
  [[ -d "${STATE_TMP}" ]] || STATE_TMP="${TMPDIR:-/tmp}"
  if [[ -z "${NODE}" ]]; then
    NODE="${HOMELAB_NODE:-}"
  fi
  local recorded
  state_get_to recorded node
  # A node file that holds no node name is a corrupt state file (the run's state check says so).
  valid_label "${recorded}" || recorded=""
  if [[ -z "${NODE}" ]]; then
    NODE="${recorded}"
  fi
  if [[ -z "${NODE}" ]]; then
    NODE="$(hostname -s 2>/dev/null || true)"
    NODE="${NODE,,}"
  fi
  valid_label "${NODE}" || usage_error "node name '${NODE}' is not a DNS label (lowercase letters, digits, '-')"
  if [[ -n "${recorded}" && "${recorded}" != "${NODE}" ]]; then
    usage_error "${ROOT} belongs to node '${recorded}' (${STATE_DIR}/node), not '${NODE}': give each node its own --root"
  fi
  MANIFEST_FILE="${REPO}/hosts/${NODE}/node.manifest"
}

main() {
  parse_args "$@"
  resolve_paths
  export TZ=UTC
  # A waiting confirmation whose watchdog is gone (reboot, killed) gets it back (lib/watchdog.sh).
  [[ "${STAGE}" == watchdog ]] || watchdog_revive
  case "${STAGE}" in
    status) stage_status_record ;;
    logs) logs_command "${LOGS_SERVICE}" "${LOGS_TAIL}" "${LOGS_SINCE}" "${LOGS_FOLLOW}" ;;
    history) history_records ;;
    images) images_records ;;
    resources) resources_record ;;
    watchdog) watchdog_main "${RUN_WANTED}" ;;
    attach | unlock | confirm)
      root_check
      if [[ -n "${SETUP_ERROR}" ]]; then
        printf 'deploy.sh: %s\n' "${SETUP_ERROR}" >&2
        exit 1
      fi
      if [[ "${STAGE}" == attach ]]; then
        follow_attach "${FROM_LINE}" "${RUN_WANTED}"
      elif [[ "${STAGE}" == confirm ]]; then
        confirm_command "${RUN_WANTED}"
      else
        unlock_command
      fi
      ;;
    *)
      if ((DETACH && !DRY_RUN)); then
        follow_detached
      else
        run_stage "${STAGE}"
      fi
      ;;
  esac
}

main "$@"; exit
