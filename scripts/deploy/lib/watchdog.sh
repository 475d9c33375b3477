#!/usr/bin/env bash
# Magic rollback: a verify that needs SATURN's confirmation (the manifest's `confirm` record, or
# `--confirm`) does not record known-good. It arms a watchdog, a process in its own session that
# outlives the run and the ssh session, and SATURN must run `deploy.sh confirm --run ID` over a NEW
# connection before the deadline (default 60 s). No confirmation in time: the watchdog runs the
# rollback stage in its own run (`deploy.sh rollback --detach --run wd-ID`, its own log).
#
# State: <state>/confirm (key=value, written with atomic_write): state (waiting, confirmed,
# rolling-back, rolled-back), run (the verify run), commit, previous (the known-good before),
# timeout, armed, deadline, watchdog_pid, watchdog_start, boot (the boot id the watchdog started
# in), revived (when a watchdog found gone was started again), confirmed, rollback_run,
# rollback_log, rollback_result, ended. Every transition out of `waiting` is made under <state>/confirm.lock
# (flock, fd 8): confirm and the watchdog's "start rolling back" cannot both win, so a confirmation
# that arrives after the rollback started is refused, never half-applied. A confirm records
# `confirmed` BEFORE known_good: a crash between the two leaves the old known-good (safe), and a
# second confirm of the same run finishes the job.
#
# While a live watchdog waits (or rolls back), every other run that changes the node is refused.
#
# A watchdog that is gone (the node rebooted: the boot id differs from the one recorded at arming;
# or its process was killed) is started again by the next deploy.sh invocation that sees the
# waiting state (watchdog_revive, from deploy.sh's main: status, confirm, every stage), under the
# confirm lock, so two invocations at once start one watchdog, never two. It waits for the same
# deadline: the remaining time, or none, and then rolls back in its own run with its own log.
# HOMELAB_BOOT_ID_FILE (tests only) names the file read for the boot id instead of
# /proc/sys/kernel/random/boot_id.
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: boot_id_to confirm_command confirm_file confirm_guard confirm_json_to confirm_lock
#     confirm_read confirm_required confirm_timeout_to confirm_unlock confirm_write watchdog_alive
#     watchdog_arm watchdog_main watchdog_revive watchdog_spawn
#   sets: BOOT_ID_FILE CONFIRM_FD CONFIRM_TIMEOUT_ARG CONFIRM_TIMEOUT_ENV CONFIRM_WANTED STAGE_ERROR
#   reads: DEPLOY_SH HOMELAB_BOOT_ID_FILE MANIFEST_CONFIRM MANIFEST_CONFIRM_TIMEOUT NODE ROOT RUN_ID
#     STATE_DIR

readonly CONFIRM_FD=8
BOOT_ID_FILE="${HOMELAB_BOOT_ID_FILE:-/proc/sys/kernel/random/boot_id}"
readonly BOOT_ID_FILE
num_env_to CONFIRM_TIMEOUT_ENV HOMELAB_CONFIRM_TIMEOUT 60 1 3600
readonly CONFIRM_TIMEOUT_ENV
# Set by deploy.sh: --confirm (1) and --confirm-timeout N.
CONFIRM_WANTED="${CONFIRM_WANTED:-0}"
CONFIRM_TIMEOUT_ARG="${CONFIRM_TIMEOUT_ARG:-}"

confirm_file() { printf '%s/confirm' "${STATE_DIR}"; }

# confirm_read ASSOC: the confirm state (empty when none).
confirm_read() {
  local -n _cf="$1"
  _cf=()
  local text
  state_get_to text confirm
  kv_load _cf "${text}"
}

# confirm_write ASSOC: rewrites the confirm state atomically; non-zero when the write failed.
confirm_write() {
  local -n _cw="$1"
  local key
  local out=""
  for key in state run commit previous timeout armed deadline watchdog_pid watchdog_start boot \
    revived confirmed rollback_run rollback_log rollback_result ended; do
    out+="${key}=${_cw[${key}]:-}"$'\n'
  done
  atomic_write "$(confirm_file)" "${out}"
}

# confirm_lock: takes the confirm lock on fd 8 (waits up to 10 s); non-zero when it cannot.
confirm_lock() {
  local file="${STATE_DIR}/confirm.lock"
  { : >>"${file}"; } 2>/dev/null || return 1
  chmod 600 -- "${file}" 2>/dev/null || true
  exec 8<"${file}"
  flock -w 10 "${CONFIRM_FD}"
}

confirm_unlock() {
  exec 8<&-
}

# The boot id of the running system into VAR (empty when it cannot be read).
boot_id_to() {
  local -n _bi="$1"
  _bi=""
  local line=""
  if [[ -r "${BOOT_ID_FILE}" ]]; then
    IFS= read -r line <"${BOOT_ID_FILE}" || true
  fi
  _bi="${line}"
  return 0
}

# True when the watchdog recorded in ASSOC is alive: the same boot (when recorded), the same pid
# with the same start time.
watchdog_alive() {
  local -n _wa="$1"
  local now=""
  local boot=""
  if [[ -n "${_wa[boot]:-}" ]]; then
    boot_id_to boot
    [[ "${boot}" == "${_wa[boot]}" ]] || return 1
  fi
  proc_start_to now "${_wa[watchdog_pid]:-}"
  [[ -n "${now}" && "${now}" == "${_wa[watchdog_start]:-}" ]]
}

# watchdog_spawn ASSOC: starts the watchdog of the run in ASSOC (own session, no lock fd, no
# terminal) and records its pid, start time and boot id in ASSOC (not written).
watchdog_spawn() {
  local -n _ws="$1"
  setsid "${DEPLOY_SH}" watchdog --root "${ROOT}" --node "${NODE}" --run "${_ws[run]}" \
    </dev/null >/dev/null 2>&1 8>&- 9>&- &
  local pid=$!
  local start=""
  local boot=""
  proc_start_to start "${pid}"
  boot_id_to boot
  _ws[watchdog_pid]="${pid}"
  _ws[watchdog_start]="${start}"
  _ws[boot]="${boot}"
}

# A waiting confirmation whose watchdog is gone (reboot, killed) gets its watchdog again, with the
# same deadline (past it: it rolls back at once). Under the confirm lock: one invocation starts
# it, the others see it alive. Best effort: never fails the invocation.
watchdog_revive() {
  # (confirm_file's path, without its subshell: every invocation, status included, asks)
  [[ -f "${STATE_DIR}/confirm" ]] || return 0
  local -A c=()
  confirm_read c
  [[ "${c[state]:-}" == waiting && -n "${c[run]:-}" ]] || return 0
  watchdog_alive c && return 0
  confirm_lock || return 0
  confirm_read c
  if [[ "${c[state]:-}" == waiting && -n "${c[run]:-}" ]] && ! watchdog_alive c; then
    watchdog_spawn c
    c[revived]="$(now_s)"
    confirm_write c || true
  fi
  confirm_unlock
  return 0
}

# The confirmation timeout of this run into VAR: --confirm-timeout, else the manifest's, else
# HOMELAB_CONFIRM_TIMEOUT, else 60.
confirm_timeout_to() {
  local -n _ct="$1"
  _ct="${CONFIRM_TIMEOUT_ENV}"
  [[ "${MANIFEST_CONFIRM_TIMEOUT:-}" =~ ^[0-9]{1,4}$ ]] && ((10#${MANIFEST_CONFIRM_TIMEOUT} >= 1 && 10#${MANIFEST_CONFIRM_TIMEOUT} <= 3600)) &&
    _ct="$((10#${MANIFEST_CONFIRM_TIMEOUT}))"
  [[ -n "${CONFIRM_TIMEOUT_ARG}" ]] && _ct="${CONFIRM_TIMEOUT_ARG}"
  return 0
}

# True when this verify of COMMIT must wait for SATURN: asked for (flag or manifest) and the
# commit is not already the known-good (a rollback's verify goes back to a confirmed commit).
confirm_required() {
  local commit="$1"
  ((CONFIRM_WANTED)) || [[ "${MANIFEST_CONFIRM:-}" == required ]] || return 1
  [[ "$(state_get known_good)" != "${commit}" ]]
}

# watchdog_arm COMMIT: the confirm state `waiting`, then the watchdog (own session, no lock fd,
# no terminal), then its pid in the state. Returns non-zero when a write failed.
watchdog_arm() {
  local commit="$1"
  local timeout
  confirm_timeout_to timeout
  local -A c=()
  c[state]=waiting
  c[run]="${RUN_ID}"
  c[commit]="${commit}"
  c[previous]="$(state_get known_good)"
  c[timeout]="${timeout}"
  c[armed]="$(now_s)"
  c[deadline]="$((c[armed] + timeout))"
  # Under the confirm lock from the first write on: an invocation that looks meanwhile (a status
  # probe's watchdog_revive) sees the watchdog alive, never a waiting state without one.
  confirm_lock || true
  confirm_write c || {
    confirm_unlock
    return 1
  }
  watchdog_spawn c
  # Only while nobody moved it on (without the lock; the watchdog does not before the deadline).
  local -A now=()
  confirm_read now
  if [[ "${now[state]:-}" == waiting && "${now[run]:-}" == "${RUN_ID}" ]]; then
    confirm_write c || {
      confirm_unlock
      return 1
    }
  fi
  confirm_unlock
  step_emit confirm start "" "waiting up to ${timeout} s for SATURN to confirm ${commit} over a new connection (deploy.sh confirm --run ${RUN_ID}); without it the node rolls back to ${c[previous]:-nothing (no known-good)} by itself"
  log_info "known-good not recorded yet: SATURN must confirm within ${timeout} s (deploy.sh confirm --run ${RUN_ID}), else this node rolls back by itself"
  return 0
}

# `deploy.sh confirm --run ID`: records the waiting commit as known-good, or refuses. One `confirm`
# record; exit 0 confirmed (also when it already was), 1 refused.
confirm_command() {
  local want="$1"
  local result=refused
  local detail=""
  local commit=""
  if [[ -z "${want}" ]]; then
    usage_error "confirm needs --run ID (the verify run that waits)"
  fi
  if ! confirm_lock; then
    detail="cannot take the confirm lock ${STATE_DIR}/confirm.lock"
  else
    local -A c=()
    confirm_read c
    commit="${c[commit]:-}"
    local now
    now="$(now_s)"
    if [[ -z "${c[state]:-}" || "${c[run]:-}" != "${want}" ]]; then
      detail="no confirmation is pending for run ${want} on ${NODE}${c[run]:+ (the last one was run ${c[run]}, ${c[state]:-})}"
    else
      case "${c[state]}" in
        confirmed)
          result=confirmed
          detail="already confirmed"
          ;;
        waiting)
          if [[ "${c[deadline]:-}" =~ ^[0-9]+$ ]] && ((now <= c[deadline])); then
            c[state]=confirmed
            c[confirmed]="${now}"
            if confirm_write c; then
              result=confirmed
              detail="confirmed within ${c[timeout]:-?} s"
            else
              detail="cannot write $(confirm_file): ${STAGE_ERROR#*: }"
            fi
          else
            detail="too late: the deadline passed at $(iso_time "${c[deadline]:-0}"); the node rolls back by itself"
          fi
          ;;
        rolling-back | rolled-back)
          detail="refused: the node started rolling back by itself at $(iso_time "${c[deadline]:-0}") (run ${c[rollback_run]:-}): SATURN could not confirm within ${c[timeout]:-?} s"
          ;;
        *) detail="the confirm state $(confirm_file) says '${c[state]}'" ;;
      esac
    fi
    # known_good after `confirmed` (see the header); also repairs a confirm cut short before it.
    if [[ "${result}" == confirmed && "$(state_get known_good)" != "${commit}" ]]; then
      if ! state_set known_good "${commit}"; then
        result=refused
        detail="cannot write ${STATE_DIR}/known_good: ${STAGE_ERROR#*: }"
      fi
    fi
    confirm_unlock
  fi
  emit confirm run "${want}" node "${NODE}" commit "${commit}" result "${result}" detail "${detail}"
  if [[ "${result}" == confirmed ]]; then
    log_info "confirmed ${commit}: it is the known-good of ${NODE}"
    exit 0
  fi
  log_error "${detail}"
  exit 1
}

# confirm_guard STAGE: refuses (STAGE_ERROR, non-zero) a run that would change the node while a live
# watchdog waits for a confirmation or rolls back; the watchdog's own rollback passes.
confirm_guard() {
  local -A c=()
  confirm_read c
  case "${c[state]:-}" in
    waiting | rolling-back) ;;
    *) return 0 ;;
  esac
  watchdog_alive c || return 0
  if [[ "${c[state]}" == rolling-back ]]; then
    [[ "$1" == rollback && "${RUN_ID}" == "${c[rollback_run]:-}" ]] && return 0
    STAGE_ERROR="${NODE} is rolling back by itself (run ${c[rollback_run]:-}): SATURN did not confirm ${c[commit]:-} within ${c[timeout]:-?} s; wait for it (deploy.sh status)"
    return 1
  fi
  STAGE_ERROR="${NODE} waits for SATURN to confirm ${c[commit]:-} (run ${c[run]:-}) until $(iso_time "${c[deadline]:-0}"): confirm it (deploy.sh confirm --run ${c[run]:-}) or let the node roll back by itself, then run ${1}"
  return 1
}

# The confirm state as a JSON object for the status record into VAR (null when there is none).
confirm_json_to() {
  local -n _cj="$1"
  _cj=null
  local -A c=()
  confirm_read c
  [[ -n "${c[state]:-}" ]] || return 0
  local alive=false
  watchdog_alive c && alive=true
  json_obj_to _cj state "${c[state]}" run "${c[run]:-}" commit "${c[commit]:-}" \
    previous "${c[previous]:-}" timeout:n "${c[timeout]:-0}" deadline:n "${c[deadline]:-0}" \
    watchdog_alive:j "${alive}" rollback_run "${c[rollback_run]:-}" \
    rollback_log "${c[rollback_log]:-}" rollback_result "${c[rollback_result]:-}"
}

# `deploy.sh watchdog --run ID` (started by watchdog_arm, never by hand): waits for the deadline;
# when the state still waits for run ID then, marks it rolling-back and runs the rollback.
watchdog_main() {
  local want="$1"
  trap '' HUP INT PIPE
  local -A c=()
  local now
  while :; do
    confirm_read c
    [[ "${c[state]:-}" == waiting && "${c[run]:-}" == "${want}" ]] || exit 0
    [[ "${c[deadline]:-}" =~ ^[0-9]+$ ]] || exit 1
    now="$(now_s)"
    ((now < c[deadline])) || break
    sleep 0.2
  done
  confirm_lock || exit 1
  confirm_read c
  if [[ "${c[state]:-}" != waiting || "${c[run]:-}" != "${want}" ]]; then
    confirm_unlock
    exit 0
  fi
  local rb="wd-${want}"
  c[state]=rolling-back
  c[rollback_run]="${rb}"
  confirm_write c || exit 1
  confirm_unlock
  local rc=0
  local try
  # The verify run may still be writing its end (it holds the deploy lock): a locked rollback
  # (exit 3) is tried again.
  for ((try = 0; try < 10; try++)); do
    rc=0
    "${DEPLOY_SH}" rollback --root "${ROOT}" --node "${NODE}" --detach --run "${rb}" \
      </dev/null >/dev/null 2>&1 8>&- || rc=$?
    ((rc == 3)) || break
    sleep 1
  done
  local last
  local -A info=()
  state_get_to last last_run
  kv_load info "${last}"
  confirm_lock || true
  confirm_read c
  c[state]=rolled-back
  [[ "${info[run]:-}" == "${rb}" ]] && c[rollback_log]="${info[log]:-}"
  c[rollback_result]=ok
  ((rc == 0)) || c[rollback_result]="failed (exit ${rc})"
  c[ended]="$(now_s)"
  confirm_write c || true
  confirm_unlock
  exit 0
}
