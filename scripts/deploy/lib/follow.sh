#!/usr/bin/env bash
# --detach, attach and unlock.
#
# --detach starts the stage in its own session (setsid, stdin /dev/null, output only to its log),
# then follows the log to stdout until the run ends and exits with the run's exit code. Killing the
# follower (SIGHUP when ssh drops, Ctrl-C) leaves the run going; `attach` follows it again.
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: early_fail follow_attach follow_detached is_run_process log_exit_code unlock_command
#   sets: DEPLOY_LOG DEPLOY_TO_STDOUT HOMELAB_RUN_ID HOMELAB_RUN_LOG
#   reads: CONFIRM_TIMEOUT_ARG DEPLOY_SH LOG_DIR NODE REF ROOT RUN_BY RUN_WANTED SETUP_ERROR STAGE
#     UPDATE_SERVICES

# The exit code from the last `run-end` record of a log ("" when there is none).
log_exit_code() {
  local line
  line="$(grep -E '^@homelab/1 run-end ' -- "$1" 2>/dev/null | tail -n 1)" || true
  [[ "${line}" =~ \"exit\":([0-9]+) ]] && printf '%s' "${BASH_REMATCH[1]}"
  return 0
}

# early_fail STEP DETAIL: a run that cannot start (its folders or log cannot be written) says so
# on stdout as records, `run`, a failed STEP and `run-end`, and exits 1.
# shellcheck disable=SC2034 # DEPLOY_LOG and DEPLOY_TO_STDOUT are read by protocol.sh
early_fail() {
  local run_id="$1"
  local step="$2"
  local detail="$3"
  DEPLOY_LOG=""
  DEPLOY_TO_STDOUT=1
  emit run run "${run_id}" stage "${STAGE}" node "${NODE}" commit "${REF}" log "" pid:n "$$"
  emit step stage "${STAGE}" step "${step}" status fail detail "${detail}"
  log_error "${detail}"
  emit run-end run "${run_id}" result failed exit:n 1
  exit 1
}

# shellcheck disable=SC2034 # DEPLOY_LOG and DEPLOY_TO_STDOUT are read by protocol.sh
follow_detached() {
  local run_id
  # SATURN names the run (--run ID) so it can re-attach even when it lost the follower before the
  # first line reached it.
  run_id="${RUN_WANTED}"
  [[ -n "${run_id}" ]] || new_run_id_to run_id
  setup_layout
  [[ -z "${SETUP_ERROR}" ]] || early_fail "${run_id}" layout "${SETUP_ERROR}"
  local log
  new_log_path_to log
  new_log_file "${log}"
  [[ -z "${SETUP_ERROR}" ]] || early_fail "${run_id}" layout "${SETUP_ERROR}"
  local -a args=("${STAGE}" --root "${ROOT}" --node "${NODE}" --child)
  [[ -n "${REF}" ]] && args+=(--ref "${REF}")
  ((ASSUME_YES)) && args+=(--yes)
  local u
  for u in "${UPDATE_SERVICES[@]}"; do
    args+=(--update "${u}")
  done
  ((CONFIRM_WANTED)) && args+=(--confirm)
  [[ -n "${CONFIRM_TIMEOUT_ARG}" ]] && args+=(--confirm-timeout "${CONFIRM_TIMEOUT_ARG}")
  [[ -n "${RUN_BY}" ]] && args+=(--by "${RUN_BY}")
  # shellcheck disable=SC2094 # the child appends to the log the follower only tails later
  HOMELAB_RUN_ID="${run_id}" HOMELAB_RUN_LOG="${log}" \
    setsid "${DEPLOY_SH}" "${args[@]}" </dev/null >>"${log}" 2>&1 &
  local child=$!
  trap '' PIPE
  trap 'printf "deploy.sh: stopped following; run %s goes on (deploy.sh attach)\n" "${run_id}" >&2; exit 129' HUP
  trap 'printf "deploy.sh: stopped following; run %s goes on (deploy.sh attach)\n" "${run_id}" >&2; exit 130' INT
  trap 'printf "deploy.sh: stopped following; run %s goes on (deploy.sh attach)\n" "${run_id}" >&2; exit 143' TERM
  # -s: how often tail looks whether the run is gone (lines come at once, through inotify)
  tail -n +1 -s 0.05 -F --pid="${child}" -- "${log}" 2>/dev/null &
  local tailer=$!
  local rc=0
  wait "${child}" || rc=$?
  wait "${tailer}" || true
  # A run whose log lost its end (a full logs disk) must not look like a success: say it here.
  if [[ -z "$(log_exit_code "${log}")" ]]; then
    ((rc != 0)) || rc=1
    local cause="no run-end record"
    local probe
    local err
    if ! probe="$(mktemp "${LOG_DIR}/.tmp.$$.XXXXXX" 2>&1)"; then
      cause="$(write_cause "${probe}")"
    else
      err="$(printf x 2>&1 >"${probe}")" || cause="$(write_cause "${err}")"
      rm -f -- "${probe}" 2>/dev/null || true
    fi
    DEPLOY_LOG=""
    DEPLOY_TO_STDOUT=1
    emit step stage "${STAGE}" step write status fail detail "cannot write the log ${log}: ${cause}"
    emit run-end run "${run_id}" result failed exit:n "${rc}"
  fi
  exit "${rc}"
}

# is_run_process PID START: true when PID is alive and is the process that started at START
# (field 22 of /proc/PID/stat, recorded by the run): a pid reused by another process is not the run.
# Without a recorded START (older runs) the process must at least be a deploy.sh.
is_run_process() {
  local pid="$1"
  local want="$2"
  [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
  local now
  proc_start_to now "${pid}"
  [[ -n "${now}" ]] || return 1
  if [[ -n "${want}" ]]; then
    [[ "${now}" == "${want}" ]]
    return
  fi
  local -a argv=()
  mapfile -d '' -t argv <"/proc/${pid}/cmdline" 2>/dev/null || return 1
  [[ "${argv[*]:-}" == *deploy.sh* ]]
}

# attach [--run ID] [--from-line N]: follows a run's log from line N (1-based) until the run ends.
# The run is ID (found by its `run` record, the first line of its log) or else the last run that
# took the lock. Exit code: the run's, from its `run-end` record.
follow_attach() {
  local from="$1"
  local want="$2"
  local log=""
  local pid=""
  local run=""
  local pid_start=""
  if [[ -n "${want}" ]]; then
    local f
    local first
    for f in "${LOG_DIR}"/deploy_*.log; do
      [[ -f "${f}" && ! -L "${f}" ]] || continue
      first=""
      IFS= read -r first <"${f}" || true
      if [[ "${first}" == "@homelab/1 run "*"\"run\":\"${want}\""* ]]; then
        log="${f}"
        run="${want}"
        [[ "${first}" =~ \"pid\":([0-9]+) ]] && pid="${BASH_REMATCH[1]}"
        [[ "${first}" =~ \"pid_start\":([0-9]+) ]] && pid_start="${BASH_REMATCH[1]}"
        break
      fi
    done
  else
    local last
    state_get_to last last_run
    local -A info=()
    kv_load info "${last}"
    log="${info[log]:-}"
    pid="${info[pid]:-}"
    pid_start="${info[pid_start]:-}"
    run="${info[run]:-}"
  fi
  # Only a log the node wrote: a regular file of LOG_DIR, never a symlink planted there.
  if [[ -z "${log}" || ! -f "${log}" || -L "${log}" || "${log}" != "${LOG_DIR}/deploy_"*.log ]]; then
    printf 'deploy.sh: no run %sto attach to on %s\n' "${want:+${want} }" "${NODE}" >&2
    exit 4
  fi
  trap '' PIPE
  # /proc, not kill -0: the run may belong to another user; and the process must be the run.
  if is_run_process "${pid}" "${pid_start}" && [[ -z "$(log_exit_code "${log}")" ]]; then
    tail -n "+${from}" -s 0.05 -F --pid="${pid}" -- "${log}" 2>/dev/null || true
  else
    tail -n "+${from}" -- "${log}" || true
  fi
  local rc
  rc="$(log_exit_code "${log}")"
  if [[ -z "${rc}" ]]; then
    # shellcheck disable=SC2016 # backquotes are text
    printf 'deploy.sh: run %s ended without a run-end record (killed); `deploy.sh resume` finishes it\n' "${run}" >&2
    exit 1
  fi
  exit "${rc}"
}

# unlock: names the holder. unlock --force stops a live holder: SIGTERM (the run records
# `interrupted`), then SIGKILL after 10 s. The lock itself needs no removal: it is free the moment
# its holder is gone. `deploy.sh resume` then finishes the interrupted stage.
unlock_command() {
  if ! lock_is_held; then
    printf 'deploy.sh: the deploy lock of %s is free\n' "${NODE}"
    exit 0
  fi
  local holder
  holder="$(lock_holder_text)"
  if ((!FORCE)); then
    # shellcheck disable=SC2016 # backquotes are text
    printf 'deploy.sh: the deploy lock of %s is held by %s.\nRun `deploy.sh unlock --force` to stop that run (SIGTERM, then SIGKILL after 10 s); its stage is then recorded as interrupted and `deploy.sh resume` finishes it.\n' "${NODE}" "${holder}"
    exit 3
  fi
  local -A h=()
  lock_holder_read h
  local pid="${h[pid]:-}"
  if [[ "${h[state]}" != run ]]; then
    # shellcheck disable=SC2016 # backquotes are text
    printf 'deploy.sh: the lock is held by %s; unlock --force stops only a deploy.sh run it can name. Find the process with `fuser %s`.\n' "${holder}" "$(lock_file)" >&2
    exit 1
  fi
  printf 'deploy.sh: unlock --force: sending SIGTERM (and SIGCONT) to %s\n' "${holder}"
  kill -TERM "${pid}" 2>/dev/null || true
  # A stopped holder (Ctrl-Z, SIGSTOP) handles SIGTERM only once it runs again.
  kill -CONT "${pid}" 2>/dev/null || true
  local i
  for ((i = 0; i < 50; i++)); do
    lock_is_held || break
    sleep 0.2
  done
  if lock_is_held && kill -0 "${pid}" 2>/dev/null; then
    printf 'deploy.sh: unlock --force: pid %s did not stop; sending SIGKILL\n' "${pid}"
    kill -KILL "${pid}" 2>/dev/null || true
    sleep 0.5
  fi
  if lock_is_held; then
    printf 'deploy.sh: the lock is still held\n' >&2
    exit 1
  fi
  # shellcheck disable=SC2016 # backquotes are text
  printf 'deploy.sh: the lock is free; the stopped stage is recorded as interrupted: run `deploy.sh resume` to finish it\n'
  exit 0
}
