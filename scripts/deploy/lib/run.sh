#!/usr/bin/env bash
# One run of deploy.sh: its id and log file, the lock, the `run`/`run-end` records, the
# current_stage state, and what happens on a signal or an unexpected error.
#
# current_stage (key=value lines, rewritten atomically) holds: stage, status (running, ok, failed,
# interrupted), run, run_stage (the stage the run was started with, e.g. resume), kind (rollback
# while the stage is part of a rollback, kept by every resume of it; else empty), target, pid,
# started, updated, error. It says `running` before a stage does anything and `ok` only after the
# stage finished, so a kill at any point leaves `running` (read as `interrupted` by status once the
# lock is free) or `failed`, never a success it did not reach.
#
# Errexit holds for every stage body. `f || rc=$?`, `if f`, `f && g` and `! f` switch `set -e` off
# for everything inside f however deep (subshells included), so no caller on the way from main to
# a stage body uses them: with_stage calls the body as a plain command, and a failing stage ENDS
# THE RUN. Any command of the body that fails (a deliberate `return 1` after step_fail, a state
# write that hit a full disk, an unexpected error) makes errexit exit the shell, and the EXIT trap
# (on_exit) does the failed stage's bookkeeping in the same process, with every global intact:
# current_stage `failed`, history, `stage-end failed` with STAGE_ERROR, `run-end`. No subshell, so
# nothing has to be carried back. A chain (resume, rollback, up = several with_stage calls) stops at
# its first failed stage, which is what every chain wants. with_stage returns only on success.
# Consequently: never call with_stage, run_rollback, run_resume, run_up or run_stage in a condition.
#
# Every write helper (atomic_write, state_set, cs_write, history_add) returns non-zero on failure,
# after write_failed has emitted a `write` step record naming the path and the cause. A write to
# the log that fails (full logs disk) fails the run too: a run never ends `ok` with a log it could
# not write.
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: changes_node cs_write finish_run history_add layout_dir log_check new_log_file
#     new_log_path_to new_run_id_to now_stamp_to on_err on_exit on_signal prune_logs root_check
#     run_commit_to run_stage setup_layout setup_run step_emit step_fail take_lock with_stage
#     write_failed
#   sets: CS_RUNNING CS_STAGE CS_STARTED DEPLOY_LOG DEPLOY_STAGE_NAME DEPLOY_TO_STDOUT IN_STAGE
#     IN_STAGE_RECORDS IN_STAGE_STARTED LAYOUT_PROBES LOG_KEEP ROOT_MODES RUN_ENDED RUN_ID RUN_KIND
#     RUN_STARTED SETUP_ERROR STAGE_ERROR STAGE_T0 STATE_TMP TARGET TZ
#   reads: HOMELAB_RUN_ID HOMELAB_RUN_LOG LOCK_ERROR LOG_DIR LOG_WRITE_ERROR NODE REF REPO ROOT
#     RUN_BY STAGE STATE_CHECK_ERROR STATE_DIR

num_env_to LOG_KEEP HOMELAB_LOG_KEEP 50 1 100000
readonly LOG_KEEP

RUN_ID=""
RUN_STARTED=0
RUN_ENDED=0
CS_STAGE=""
CS_RUNNING=0
CS_STARTED=""
STAGE_T0=0
TARGET=""
STAGE_ERROR=""
# The stage with_stage is in (bookkeeping for on_exit): its name, whether it writes current_stage,
# whether stage-start was printed.
IN_STAGE=""
IN_STAGE_RECORDS=0
IN_STAGE_STARTED=0
# Why the run could not set up its folders (reported once the `run` record is out).
SETUP_ERROR=""
# What the run's stages are part of, for current_stage's kind: rollback (run_rollback, and a resume
# of one: it pins the known-good digests again), else empty.
RUN_KIND=""

# Stages that change the node: they take the lock and write current_stage.
changes_node() {
  case "$1" in
    prepare | deploy | verify | rollback | resume | up) return 0 ;;
    *) return 1 ;;
  esac
}

# now_stamp_to VAR: now in UTC as 20260102T150405.123 (milliseconds after the dot) into VAR.
now_stamp_to() {
  local -n _ns_out="$1"
  local ms
  now_ms_to ms
  TZ=UTC printf -v _ns_out '%(%Y%m%dT%H%M%S)T' "${ms:0:10}"
  _ns_out+=".${ms:10:3}"
}

# new_run_id_to VAR: a new run id into VAR (no fork).
new_run_id_to() {
  local -n _rid_out="$1"
  local stamp
  now_stamp_to stamp
  _rid_out="${stamp%.*}-$$-${RANDOM}"
}

# new_log_path_to VAR: the path of a new run log into VAR (no fork).
new_log_path_to() {
  local -n _lp_out="$1"
  local stamp
  now_stamp_to stamp
  stamp="${stamp%.*}${stamp#*.}Z"
  _lp_out="${LOG_DIR}/deploy_${stamp}.log"
  [[ ! -e "${_lp_out}" ]] || _lp_out="${LOG_DIR}/deploy_${stamp}_$$.log"
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

# write_failed PATH CAUSE: the `write` step record and STAGE_ERROR for a write that failed.
write_failed() {
  local detail="cannot write $1: $2"
  [[ -n "${STAGE_ERROR}" ]] || STAGE_ERROR="${detail}"
  emit step stage "${CS_STAGE:-${STAGE:-deploy.sh}}" step write status fail detail "${detail}"
  log_error "${detail}"
}

# root_check: SETUP_ERROR when the node root could have been planted by someone else: a folder of
# the layout owned by another non-root user or writable by group or others, or a root inside a
# world-writable folder without the sticky bit (anyone could have put it there).
# The modes root_check saw, by folder (setup_layout fixes those that are not 700).
declare -A ROOT_MODES=()
root_check() {
  ROOT_MODES=()
  local parent="${ROOT%/*}"
  [[ -n "${parent}" ]] || parent=/
  local -a dirs=("${ROOT}")
  local d
  for d in "${ROOT}/state" "${STATE_DIR}" "${ROOT}/logs" "${LOG_DIR}"; do
    [[ -d "${d}" ]] && dirs+=("${d}")
  done
  local out
  out="$(stat -L -c '%u %a %n' -- "${parent}" "${dirs[@]}" 2>/dev/null)" || return 0
  local uid
  local mode
  local name
  local first=1
  while read -r uid mode name; do
    [[ "${uid}" =~ ^[0-9]+$ && "${mode}" =~ ^[0-7]+$ ]] || continue
    ROOT_MODES["${name}"]="${mode}"
    if ((first)); then
      first=0
      if (((8#${mode} & 8#1002) == 8#0002)); then
        SETUP_ERROR="${ROOT} is inside ${name}, which anyone can write to (mode ${mode}, no sticky bit): anyone could have planted it; move the node root elsewhere (--root or HOMELAB_ROOT)"
        return 0
      fi
      continue
    fi
    if ((uid != 0 && uid != EUID)); then
      SETUP_ERROR="${name} is owned by uid ${uid}, not by $(id -un 2>/dev/null || printf 'uid %s' "${EUID}") or root: refusing a node root another user could have planted (check it, then chown -R $(id -un 2>/dev/null || printf '%s' "${EUID}") ${ROOT})"
      return 0
    fi
    if (((8#${mode} & 8#0022) != 0)); then
      SETUP_ERROR="${name} is writable by group or others (mode ${mode}): refusing a node root someone else could have planted (check it, then chmod go-w ${name})"
      return 0
    fi
  done <<<"${out}"
  return 0
}

# layout_dir DIR: creates DIR when missing; SETUP_ERROR when it cannot be a folder this run
# writes. Leaves a probe file in LAYOUT_PROBES (setup_layout removes them in one call).
LAYOUT_PROBES=()
layout_dir() {
  local dir="$1"
  local err
  if [[ -e "${dir}" && ! -d "${dir}" ]] || [[ -L "${dir}" && ! -d "${dir}" ]]; then
    SETUP_ERROR="${dir} is not a folder (a file is in the way): move it away and run again"
    return 0
  fi
  if [[ ! -d "${dir}" ]] && ! err="$(mkdir -p -- "${dir}" 2>&1)"; then
    SETUP_ERROR="cannot create ${dir}: $(write_cause "${err}")"
    return 0
  fi
  local tmp
  if ! temp_file_to tmp "${dir}/.tmp"; then
    SETUP_ERROR="cannot write ${dir}: $(write_cause "${tmp}")"
    return 0
  fi
  LAYOUT_PROBES+=("${tmp}")
  # A full disk still creates empty files; one byte needs a block.
  if ! { printf x >"${tmp}"; } 2>/dev/null; then
    err="$(printf x 2>&1 >"${tmp}")" || true
    SETUP_ERROR="cannot write ${dir}: $(write_cause "${err}")"
  fi
  return 0
}

# setup_layout: the root check, then state/deploy and logs/deploy as folders this run can write,
# all four folders mode 700 and their files 600 (however they were created); SETUP_ERROR says the
# first problem.
setup_layout() {
  SETUP_ERROR=""
  LAYOUT_PROBES=()
  root_check
  [[ -z "${SETUP_ERROR}" ]] || return 0
  layout_dir "${STATE_DIR}"
  [[ -n "${SETUP_ERROR}" ]] || layout_dir "${LOG_DIR}"
  ((${#LAYOUT_PROBES[@]} == 0)) || rm -f -- "${LAYOUT_PROBES[@]}" 2>/dev/null || true
  [[ -z "${SETUP_ERROR}" ]] || return 0
  local -a dirs=()
  local d
  for d in "${ROOT}/state" "${STATE_DIR}" "${ROOT}/logs" "${LOG_DIR}"; do
    [[ -O "${d}" && "${ROOT_MODES["${d}"]:-}" != 700 ]] && dirs+=("${d}")
  done
  ((${#dirs[@]} == 0)) || chmod 700 -- "${dirs[@]}" 2>/dev/null || true
  find "${STATE_DIR}" "${LOG_DIR}" -maxdepth 1 -type f -user "${EUID}" ! -perm 600 \
    -exec chmod 600 {} + 2>/dev/null || true
  return 0
}

# new_log_to VAR: creates the run's log file (mode 600); SETUP_ERROR when it cannot.
new_log_file() {
  local log="$1"
  local err
  # (only a failure pays a subshell to learn the cause)
  if ! { : >>"${log}"; } 2>/dev/null && ! err="$({ : >>"${log}"; } 2>&1)"; then
    SETUP_ERROR="cannot create the log ${log}: $(write_cause "${err}")"
    return 0
  fi
  chmod 600 -- "${log}" 2>/dev/null || true
  return 0
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
  if ((CHILD)) && [[ -n "${HOMELAB_RUN_ID:-}" && -n "${HOMELAB_RUN_LOG:-}" ]]; then
    # The follower (follow.sh) checked the layout and made the log.
    RUN_ID="${HOMELAB_RUN_ID}"
    DEPLOY_LOG="${HOMELAB_RUN_LOG}"
    DEPLOY_TO_STDOUT=0
    STATE_TMP="${STATE_DIR}"
    return 0
  fi
  new_run_id_to RUN_ID
  setup_layout
  [[ -z "${SETUP_ERROR}" ]] || return 0
  STATE_TMP="${STATE_DIR}"
  new_log_path_to DEPLOY_LOG
  new_log_file "${DEPLOY_LOG}"
  if [[ -n "${SETUP_ERROR}" ]]; then
    DEPLOY_LOG=""
    return 0
  fi
  prune_logs
}

# cs_write STAGE STATUS [ERROR]: returns non-zero when current_stage could not be written.
cs_write() {
  ((DRY_RUN)) && return 0
  local stage="$1"
  local status="$2"
  local error="${3:-}"
  error="${error//$'\n'/ }"
  [[ "${status}" == running ]] && CS_STARTED="${EPOCHSECONDS}"
  CS_STAGE="${stage}"
  atomic_write "${STATE_DIR}/current_stage" "stage=${stage}
status=${status}
run=${RUN_ID}
run_stage=${STAGE}
kind=${RUN_KIND}
target=${TARGET}
pid=$$
started=${CS_STARTED}
updated=${EPOCHSECONDS}
error=${error}
" || return 1
  if [[ "${status}" == running ]]; then
    CS_RUNNING=1
  else
    CS_RUNNING=0
  fi
  return 0
}

# history_add STAGE RESULT: returns non-zero when the history could not be written. A line:
# when, run, stage, result, commit, duration_ms (of the stage), by (who started it on SATURN).
history_add() {
  ((DRY_RUN)) && return 0
  local when
  local now
  iso_time_to when
  now_ms_to now
  state_append_history "${when}	${RUN_ID}	$1	$2	${TARGET}	$((now - STAGE_T0))	${RUN_BY}"
}

# The log could not be written: the stage fails (a run never ends ok with a log it lost).
log_check() {
  [[ -z "${LOG_WRITE_ERROR}" ]] && return 0
  local detail="cannot write the log ${LOG_WRITE_ERROR}"
  [[ -n "${STAGE_ERROR}" ]] || STAGE_ERROR="${detail}"
  emit step stage "${CS_STAGE:-${STAGE}}" step write status fail detail "${detail}"
  log_error "${detail}"
  return 1
}

# with_stage NAME FUNCTION: current_stage running, stage-start, the body (errexit on), then
# current_stage ok, history, stage-end ok. Returns only when the stage succeeded: any failure,
# of the body or of a write, ends the run through on_exit (see the header).
# shellcheck disable=SC2034 # sets globals that deploy.sh and the other libs read
with_stage() {
  local name="$1"
  local fn="$2"
  now_ms_to STAGE_T0
  DEPLOY_STAGE_NAME="${name}"
  STAGE_ERROR=""
  IN_STAGE="${name}"
  IN_STAGE_STARTED=0
  IN_STAGE_RECORDS=0
  [[ "${name}" != diagnose ]] && IN_STAGE_RECORDS=1
  # The state says running before anyone can see stage-start.
  ((IN_STAGE_RECORDS)) && cs_write "${name}" running
  emit stage-start stage "${name}"
  IN_STAGE_STARTED=1
  if [[ "${name}" == diagnose ]]; then
    # diagnose is read-only and reports every check as a finding; it was written to go on past a
    # failing probe, so it runs as before, with errexit off (it writes no state).
    local drc=0
    "${fn}" || drc=$?
    ((drc == 0)) || return "${drc}"
  else
    "${fn}"
  fi
  log_check
  local dur
  now_ms_to dur
  dur=$((dur - STAGE_T0))
  if ((IN_STAGE_RECORDS)); then
    cs_write "${name}" ok
    history_add "${name}" ok
  fi
  IN_STAGE=""
  emit stage-end stage "${name}" result ok duration_ms:n "${dur}"
  log_info "${name} ok ($((dur / 1000)).$(((dur % 1000) / 100))s)"
  return 0
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
  if ((rc == 0)) && [[ -n "${LOG_WRITE_ERROR}" ]]; then
    log_check || rc=1
  fi
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
  set +e
  atomic_abort
  RUN_ENDED=1
  log_error "interrupted by SIG${sig}"
  if ((CS_RUNNING)); then
    cs_write "${CS_STAGE}" interrupted "interrupted by SIG${sig}"
    history_add "${CS_STAGE}" interrupted
  fi
  if [[ -n "${IN_STAGE}" ]]; then
    ((IN_STAGE_STARTED)) || emit stage-start stage "${IN_STAGE}"
    local now
    now_ms_to now
    emit stage-end stage "${IN_STAGE}" result failed duration_ms:n "$((now - STAGE_T0))" error "interrupted by SIG${sig}"
  fi
  emit run-end run "${RUN_ID}" result interrupted exit:n "${code}"
  exit "${code}"
}

# The EXIT trap: the end of every run that did not reach finish_run or on_signal, which is how a
# failed stage ends (errexit, see the header). Records the failed stage and the run's end.
on_exit() {
  local rc=$?
  set +e
  trap - ERR
  atomic_abort
  ((RUN_STARTED && !RUN_ENDED)) || return 0
  RUN_ENDED=1
  ((rc != 0)) || rc=1
  # 4 (node not set up) passes through; every other failure of a stage is 1.
  ((rc == 4)) || rc=1
  if [[ -n "${IN_STAGE}" ]]; then
    local name="${IN_STAGE}"
    [[ -n "${STAGE_ERROR}" ]] || STAGE_ERROR="${name} failed"
    if ((IN_STAGE_RECORDS)) && ((CS_RUNNING)); then
      cs_write "${name}" failed "${STAGE_ERROR}" && history_add "${name}" failed
    fi
    ((IN_STAGE_STARTED)) || emit stage-start stage "${name}"
    local now
    now_ms_to now
    emit stage-end stage "${name}" result failed duration_ms:n "$((now - STAGE_T0))" error "${STAGE_ERROR}"
    log_error "${name} failed: ${STAGE_ERROR}"
  fi
  emit run-end run "${RUN_ID}" result failed exit:n "${rc}"
  exit "${rc}"
}

# The ERR trap: a command failed and errexit ends the run. A failure a step already explained
# (step_fail, write_failed set STAGE_ERROR) says nothing more; any other is named.
on_err() {
  local rc=$?
  [[ -z "${STAGE_ERROR}" ]] || return 0
  STAGE_ERROR="unexpected failure in ${FUNCNAME[1]:-main} line ${BASH_LINENO[0]} (exit ${rc}): ${BASH_COMMAND}"
  log_error "${STAGE_ERROR}"
}

# run_commit_to VAR: the commit a run works towards, for its `run` record, into VAR.
run_commit_to() {
  local -n _rc_out="$1"
  case "${STAGE}" in
    prepare | up) _rc_out="${REF}" ;;
    resume)
      local cs
      local -A kv=()
      state_get_to cs current_stage
      kv_load kv "${cs}"
      _rc_out="${kv[target]:-}"
      ;;
    rollback) state_get_to _rc_out known_good ;;
    *) repo_head_to _rc_out ;;
  esac
}

# Takes the lock or ends the run: exit 3 naming the live holder, exit 1 when the lock file
# cannot be opened or the holder not recorded.
take_lock() {
  local stage="$1"
  local lrc=0
  lock_acquire "${stage}" "${TARGET}" || lrc=$?
  if ((lrc == 2)); then
    [[ -n "${STAGE_ERROR}" ]] || STAGE_ERROR="${LOCK_ERROR}"
    emit step stage "${stage}" step lock status fail detail "${LOCK_ERROR}"
    log_error "${LOCK_ERROR}"
    finish_run 1
  fi
  if ((lrc != 0)); then
    local holder
    holder="$(lock_holder_text_settled)"
    emit step stage "${stage}" step lock status fail detail "locked by ${holder}"
    log_error "another run holds the deploy lock of ${NODE} ($(lock_file)): ${holder}. Wait for it, follow it with \`deploy.sh attach\`, or stop it with \`deploy.sh unlock --force\`."
    finish_run 3
  fi
  emit step stage "${stage}" step lock status ok
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
  run_commit_to TARGET
  local start
  proc_start_to start "$$"
  emit run run "${RUN_ID}" stage "${stage}" node "${NODE}" commit "${TARGET}" log "${DEPLOY_LOG}" pid:n "$$" pid_start:n "${start}"
  if [[ -n "${SETUP_ERROR}" ]]; then
    STAGE_ERROR="${SETUP_ERROR}"
    emit step stage "${stage}" step layout status fail detail "${SETUP_ERROR}"
    log_error "${SETUP_ERROR}"
    finish_run 1
  fi
  if [[ ! -d "${REPO}/.git" ]]; then
    log_error "${REPO} is not a git checkout: bootstrap the node first"
    finish_run 4
  fi
  if changes_node "${stage}" && ((!DRY_RUN)); then
    take_lock "${stage}"
    state_clean_temps
    if ! state_check; then
      STAGE_ERROR="${STATE_CHECK_ERROR}"
      emit step stage "${stage}" step state status fail detail "${STATE_CHECK_ERROR}"
      log_error "${STATE_CHECK_ERROR}"
      finish_run 1
    fi
    # A live watchdog waits for SATURN's confirmation or rolls back (lib/watchdog.sh).
    if ! confirm_guard "${stage}"; then
      emit step stage "${stage}" step confirm status fail detail "${STAGE_ERROR}"
      log_error "${STAGE_ERROR}"
      finish_run 1
    fi
    # Written once: a root keeps its node's name (resolve_paths refuses another).
    local recorded_node
    state_get_to recorded_node node
    [[ "${recorded_node}" == "${NODE}" ]] || state_set node "${NODE}"
    state_set last_run "run=${RUN_ID}
log=${DEPLOY_LOG}
pid=$$
pid_start=${start}
stage=${stage}"
  fi
  case "${stage}" in
    prepare) with_stage prepare stage_prepare ;;
    deploy) with_stage deploy stage_deploy ;;
    verify) with_stage verify stage_verify ;;
    diagnose) with_stage diagnose run_diagnose ;;
    rollback) run_rollback ;;
    resume) run_resume ;;
    up) run_up ;;
  esac
  finish_run 0
}
