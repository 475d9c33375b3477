#!/usr/bin/env bash
# --detach, attach and unlock.
#
# --detach starts the stage in its own session (setsid, stdin /dev/null, output only to its log),
# then follows the log to stdout until the run ends and exits with the run's exit code. Killing the
# follower (SIGHUP when ssh drops, Ctrl-C) leaves the run going; `attach` follows it again.

# The exit code from the last `run-end` record of a log ("" when there is none).
log_exit_code() {
  local line
  line="$(grep -E '^@homelab/1 run-end ' -- "$1" 2>/dev/null | tail -n 1)" || true
  [[ "${line}" =~ \"exit\":([0-9]+) ]] && printf '%s' "${BASH_REMATCH[1]}"
  return 0
}

follow_detached() {
  mkdir -p -- "${STATE_DIR}" "${LOG_DIR}"
  local run_id
  run_id="$(new_run_id)"
  local log
  log="$(new_log_path)"
  : >>"${log}"
  local -a args=("${STAGE}" --root "${ROOT}" --node "${NODE}" --child)
  [[ -n "${REF}" ]] && args+=(--ref "${REF}")
  ((ASSUME_YES)) && args+=(--yes)
  # shellcheck disable=SC2094 # the child appends to the log the follower only tails later
  HOMELAB_RUN_ID="${run_id}" HOMELAB_RUN_LOG="${log}" \
    setsid "${DEPLOY_SH}" "${args[@]}" </dev/null >>"${log}" 2>&1 &
  local child=$!
  trap '' PIPE
  trap 'printf "deploy.sh: stopped following; run %s goes on (deploy.sh attach)\n" "${run_id}" >&2; exit 129' HUP
  trap 'printf "deploy.sh: stopped following; run %s goes on (deploy.sh attach)\n" "${run_id}" >&2; exit 130' INT
  trap 'printf "deploy.sh: stopped following; run %s goes on (deploy.sh attach)\n" "${run_id}" >&2; exit 143' TERM
  tail -n +1 -s 0.2 -F --pid="${child}" -- "${log}" 2>/dev/null &
  local tailer=$!
  local rc=0
  wait "${child}" || rc=$?
  wait "${tailer}" || true
  exit "${rc}"
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
    run="${info[run]:-}"
  fi
  # Only a log the node wrote: a regular file of LOG_DIR, never a symlink planted there.
  if [[ -z "${log}" || ! -f "${log}" || -L "${log}" || "${log}" != "${LOG_DIR}/deploy_"*.log ]]; then
    printf 'deploy.sh: no run %sto attach to on %s\n' "${want:+${want} }" "${NODE}" >&2
    exit 4
  fi
  trap '' PIPE
  # /proc, not kill -0: the run may belong to another user.
  if [[ "${pid}" =~ ^[0-9]+$ && -d "/proc/${pid}" ]] && [[ -z "$(log_exit_code "${log}")" ]]; then
    tail -n "+${from}" -s 0.2 -F --pid="${pid}" -- "${log}" 2>/dev/null || true
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
  local pid
  pid="$(kv_get "$(state_get lock.holder)" pid)"
  if [[ ! "${pid}" =~ ^[0-9]+$ ]] || ! kill -0 "${pid}" 2>/dev/null; then
    # shellcheck disable=SC2016 # backquotes are text
    printf 'deploy.sh: the lock is held but its recorded holder (pid %s) is gone; another process has the lock file open. Find it with `fuser %s`.\n' "${pid}" "$(lock_file)" >&2
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
