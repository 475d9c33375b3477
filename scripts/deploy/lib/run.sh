#!/usr/bin/env bash
# One run of deploy.sh: its id and log file, the lock, the `run`/`run-end` records, the
# current_stage state, and what happens on a signal or an unexpected error.
#
# current_stage (key=value lines, rewritten atomically) holds: stage, status (running, ok, failed,
# interrupted), run, run_stage (the stage the run was started with, e.g. resume), target, pid,
# started, updated, error. It says `running` before a stage does anything and `ok` only after the
# stage finished, so a kill at any point leaves `running` (read as `interrupted` by status once the
# lock is free) or `failed`, never a success it did not reach.

readonly LOG_KEEP="${HOMELAB_LOG_KEEP:-50}"

RUN_ID=""
RUN_STARTED=0
RUN_ENDED=0
CS_STAGE=""
CS_RUNNING=0
CS_STARTED=""
STAGE_T0=0
TARGET=""
STAGE_ERROR=""

# Stages that change the node: they take the lock and write current_stage.
changes_node() {
  case "$1" in
    prepare | deploy | verify | rollback | resume) return 0 ;;
    *) return 1 ;;
  esac
}

new_run_id() {
  local t
  t="$(now_ms)"
  printf '%s-%s-%s' "$(TZ=UTC printf '%(%Y%m%dT%H%M%S)T' "${t:0:10}")" "$$" "${RANDOM}"
}

new_log_path() {
  local t
  t="$(now_ms)"
  local stamp
  stamp="$(TZ=UTC printf '%(%Y%m%dT%H%M%S)T' "${t:0:10}")${t:10:3}Z"
  local path="${LOG_DIR}/deploy_${stamp}.log"
  [[ -e "${path}" ]] && path="${LOG_DIR}/deploy_${stamp}_$$.log"
  printf '%s' "${path}"
}

# Keeps the newest LOG_KEEP logs.
prune_logs() {
  local -a logs=()
  local f
  for f in "${LOG_DIR}"/deploy_*.log; do
    [[ -e "${f}" ]] && logs+=("${f}")
  done
  local excess=$((${#logs[@]} - LOG_KEEP))
  ((excess > 0)) || return 0
  # Names sort by time (deploy_<YYYYmmddTHHMMSSmmm>Z.log).
  local -a sorted=()
  mapfile -t sorted < <(printf '%s\n' "${logs[@]}" | LC_ALL=C sort)
  rm -f -- "${sorted[@]:0:excess}"
}

# Creates the layout and the run's log file (none in --dry-run: it changes nothing).
# shellcheck disable=SC2034,SC2153 # STAGE comes from deploy.sh; the globals set here are read by protocol.sh
setup_run() {
  DEPLOY_STAGE_NAME="${STAGE}"
  if ((DRY_RUN)); then
    RUN_ID="dry-run-$$"
    DEPLOY_LOG=""
    return 0
  fi
  mkdir -p -- "${STATE_DIR}" "${LOG_DIR}"
  STATE_TMP="${STATE_DIR}"
  if ((CHILD)) && [[ -n "${HOMELAB_RUN_ID:-}" && -n "${HOMELAB_RUN_LOG:-}" ]]; then
    RUN_ID="${HOMELAB_RUN_ID}"
    DEPLOY_LOG="${HOMELAB_RUN_LOG}"
    DEPLOY_TO_STDOUT=0
  else
    RUN_ID="$(new_run_id)"
    DEPLOY_LOG="$(new_log_path)"
  fi
  : >>"${DEPLOY_LOG}"
  prune_logs
}

# cs_write STAGE STATUS [ERROR]
cs_write() {
  ((DRY_RUN)) && return 0
  local stage="$1"
  local status="$2"
  local error="${3:-}"
  error="${error//$'\n'/ }"
  [[ "${status}" == running ]] && CS_STARTED="$(now_s)"
  atomic_write "${STATE_DIR}/current_stage" "stage=${stage}
status=${status}
run=${RUN_ID}
run_stage=${STAGE}
target=${TARGET}
pid=$$
started=${CS_STARTED}
updated=$(now_s)
error=${error}
"
  CS_STAGE="${stage}"
  if [[ "${status}" == running ]]; then
    CS_RUNNING=1
  else
    CS_RUNNING=0
  fi
}

history_add() {
  ((DRY_RUN)) && return 0
  state_append_history "$(iso_time)	${RUN_ID}	$1	$2	${TARGET}" || true
}

# with_stage NAME FUNCTION: stage-start, current_stage running, the work, stage-end, ok/failed.
# shellcheck disable=SC2034 # sets globals that deploy.sh and the other libs read
with_stage() {
  local name="$1"
  local fn="$2"
  local t0
  t0="$(now_ms)"
  STAGE_T0="${t0}"
  local records=0
  [[ "${name}" != diagnose ]] && records=1
  DEPLOY_STAGE_NAME="${name}"
  # The state says running before anyone can see stage-start.
  ((records)) && cs_write "${name}" running
  emit stage-start stage "${name}"
  STAGE_ERROR=""
  local rc=0
  "${fn}" || rc=$?
  local dur=$(($(now_ms) - t0))
  if ((rc == 0)); then
    ((records)) && cs_write "${name}" ok
    ((records)) && history_add "${name}" ok
    emit stage-end stage "${name}" result ok duration_ms:n "${dur}"
    log_info "${name} ok ($((dur / 1000)).$(((dur % 1000) / 100))s)"
  else
    [[ -n "${STAGE_ERROR}" ]] || STAGE_ERROR="${name} failed"
    ((records)) && cs_write "${name}" failed "${STAGE_ERROR}"
    ((records)) && history_add "${name}" failed
    emit stage-end stage "${name}" result failed duration_ms:n "${dur}" error "${STAGE_ERROR}"
    log_error "${name} failed: ${STAGE_ERROR}"
  fi
  return "${rc}"
}

# Records a step failure and remembers the first error for stage-end.
step_fail() {
  local step="$1"
  local service="$2"
  local detail="$3"
  [[ -n "${STAGE_ERROR}" ]] || STAGE_ERROR="${detail}"
  if [[ -n "${service}" ]]; then
    emit step stage "${CS_STAGE:-${STAGE}}" step "${step}" status fail service "${service}" detail "${detail}"
  else
    emit step stage "${CS_STAGE:-${STAGE}}" step "${step}" status fail detail "${detail}"
  fi
  log_error "${detail}"
}

# step_emit STEP STATUS [SERVICE] [DETAIL] [DURATION_MS]
step_emit() {
  local -a extra=()
  [[ -n "${3:-}" ]] && extra+=(service "$3")
  [[ -n "${4:-}" ]] && extra+=(detail "$4")
  [[ -n "${5:-}" ]] && extra+=(duration_ms:n "$5")
  emit step stage "${CS_STAGE:-${STAGE}}" step "$1" status "$2" "${extra[@]}"
}

finish_run() {
  local rc="$1"
  local result=ok
  ((rc == 0)) || result=failed
  RUN_ENDED=1
  emit run-end run "${RUN_ID}" result "${result}" exit:n "${rc}"
  exit "${rc}"
}

on_signal() {
  local sig="$1"
  local code="$2"
  trap '' INT TERM HUP
  RUN_ENDED=1
  log_error "interrupted by SIG${sig}"
  if ((CS_RUNNING)); then
    cs_write "${CS_STAGE}" interrupted "interrupted by SIG${sig}"
    history_add "${CS_STAGE}" interrupted
    emit stage-end stage "${CS_STAGE}" result failed duration_ms:n "$(($(now_ms) - STAGE_T0))" error "interrupted by SIG${sig}"
  fi
  emit run-end run "${RUN_ID}" result interrupted exit:n "${code}"
  exit "${code}"
}

on_exit() {
  local rc=$?
  if ((RUN_STARTED && !RUN_ENDED)); then
    ((rc != 0)) || rc=1
    if ((CS_RUNNING)); then
      cs_write "${CS_STAGE}" failed "unexpected error (exit ${rc})"
    fi
    emit run-end run "${RUN_ID}" result failed exit:n "${rc}"
  fi
}

on_err() {
  log_error "unexpected failure in ${FUNCNAME[1]:-main} line ${BASH_LINENO[0]}: ${BASH_COMMAND}"
}

# The commit a run works towards, for its `run` record.
run_commit() {
  case "${STAGE}" in
    prepare) printf '%s' "${REF}" ;;
    resume) kv_get "$(state_get current_stage)" target ;;
    rollback) state_get known_good ;;
    *) gt rev-parse --verify --quiet HEAD 2>/dev/null || true ;;
  esac
}

run_stage() {
  local stage="$1"
  setup_run
  trap 'on_signal INT 130' INT
  trap 'on_signal TERM 143' TERM
  trap 'on_signal HUP 129' HUP
  trap on_exit EXIT
  trap on_err ERR
  trap '' PIPE
  RUN_STARTED=1
  TARGET="$(run_commit)"
  emit run run "${RUN_ID}" stage "${stage}" node "${NODE}" commit "${TARGET}" log "${DEPLOY_LOG}" pid:n "$$"
  if [[ ! -d "${REPO}/.git" ]]; then
    log_error "${REPO} is not a git checkout: bootstrap the node first"
    finish_run 4
  fi
  if changes_node "${stage}" && ((!DRY_RUN)); then
    if ! lock_acquire "${stage}" "${TARGET}"; then
      local holder
      holder="$(lock_holder_text)"
      emit step stage "${stage}" step lock status fail detail "locked by ${holder}"
      log_error "another run holds the deploy lock of ${NODE} ($(lock_file)): ${holder}. Wait for it, follow it with \`deploy.sh attach\`, or stop it with \`deploy.sh unlock --force\`."
      finish_run 3
    fi
    emit step stage "${stage}" step lock status ok
    state_set node "${NODE}"
    state_set last_run "run=${RUN_ID}
log=${DEPLOY_LOG}
pid=$$
stage=${stage}"
  fi
  local rc=0
  case "${stage}" in
    prepare) with_stage prepare stage_prepare || rc=$? ;;
    deploy) with_stage deploy stage_deploy || rc=$? ;;
    verify) with_stage verify stage_verify || rc=$? ;;
    diagnose) with_stage diagnose run_diagnose || rc=$? ;;
    rollback) run_rollback || rc=$? ;;
    resume) run_resume || rc=$? ;;
  esac
  finish_run "${rc}"
}
