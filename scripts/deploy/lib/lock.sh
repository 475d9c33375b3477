#!/usr/bin/env bash
# The per-node deploy lock: flock on <root>/state/deploy/lock, held on fd 9 for the life of the run.
# The lock file is never deleted (deleting it would let two runs hold "the" lock); a dead holder's
# lock is free by construction because the kernel drops it with the last open descriptor. Child
# processes get fd 9 closed (see dk/gt in compose.sh), so a killed run never leaves a child holding it.
# Who holds it is written to lock.holder (key=value lines, atomic) for the error message and status.

readonly LOCK_FD=9

lock_file() { printf '%s/lock' "${STATE_DIR}"; }
lock_holder_file() { printf '%s/lock.holder' "${STATE_DIR}"; }

# lock_acquire STAGE COMMIT: returns 0 when this process holds the lock, 1 when another does.
lock_acquire() {
  local stage="$1"
  local commit="$2"
  exec 9>>"$(lock_file)"
  if ! flock -n "${LOCK_FD}"; then
    exec 9>&-
    return 1
  fi
  atomic_write "$(lock_holder_file)" "pid=$$
user=$(id -un 2>/dev/null || printf '%s' "${EUID}")
stage=${stage}
commit=${commit}
since=$(now_s)
run=${RUN_ID:-}
"
}

# True when some process holds the lock. Read-only: opens the file for reading only.
lock_is_held() {
  local file
  file="$(lock_file)"
  [[ -e "${file}" ]] || return 1
  local rc=0
  { flock -n -s 8 || rc=$?; } 8<"${file}"
  ((rc != 0))
}

# One line naming the holder: "pid 123 (user root) running deploy for abc123 since 2026-...".
lock_holder_text() {
  local info
  info="$(state_get lock.holder)"
  local since
  since="$(kv_get "${info}" since)"
  local when="unknown time"
  [[ "${since}" =~ ^[0-9]+$ ]] && when="$(iso_time "${since}")"
  printf 'pid %s (user %s) running %s for %s since %s' \
    "$(kv_get "${info}" pid)" "$(kv_get "${info}" user)" "$(kv_get "${info}" stage)" \
    "$(kv_get "${info}" commit)" "${when}"
}

# lock_holder_json_to VAR: the holder as a JSON object for the status record, or null when free.
lock_holder_json_to() {
  local -n _lock_out="$1"
  _lock_out=null
  lock_is_held || return 0
  local info
  state_get_to info lock.holder
  local -A h=()
  kv_load h "${info}"
  json_obj_to _lock_out pid:n "${h[pid]:-}" user "${h[user]:-}" stage "${h[stage]:-}" \
    commit "${h[commit]:-}" since:n "${h[since]:-}"
}
