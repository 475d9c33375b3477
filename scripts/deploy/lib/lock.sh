#!/usr/bin/env bash
# The per-node deploy lock: flock on <root>/state/deploy/lock, held on fd 9 for the life of the run.
# The lock file is never deleted (deleting it would let two runs hold "the" lock); a dead holder's
# lock is free by construction because the kernel drops it with the last open descriptor. Child
# processes get fd 9 closed (see dk/gt in compose.sh), so a killed run never leaves a child holding it.
#
# Probing never takes the lock. A shared `flock -n -s` probe (what status did before) makes a
# deploy's exclusive flock fail while the probe holds it: with the TUI probing in the background,
# deploys were refused with nobody deploying. lock_is_held reads /proc/locks instead: the kernel's
# list of held locks, one line per lock, naming the lock file's device and inode (`FLOCK ADVISORY
# WRITE <pid> <maj>:<min>:<inode> 0 EOF`; blocked waiters are `-> ` lines and are skipped). Reading
# it takes nothing. Its pid is useless to name the holder: it is that of the `flock` command that
# took the lock for the bash that holds it, gone at once. The acquirer waits a little
# (HOMELAB_LOCK_WAIT seconds, default 5) rather than failing at the first try.
#
# Who holds it: the holder writes lock.holder (key=value: pid, start, user, stage, commit, since,
# run) once it has the lock. A holder is named only when that pid is alive with the same start
# time (field 22 of /proc/PID/stat: a reused pid is another process), so a loser never names a
# finished run; until the winner has written its name it is "starting". A lock held by a process
# that is not deploy.sh (the flock pid in /proc/locks is alive and its command line is not
# deploy.sh) is named as such, with its pid and command.
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: lock_acquire lock_file lock_holder_file lock_holder_json_to lock_holder_read
#     lock_holder_text lock_holder_text_settled lock_id_to lock_inode_to lock_is_held
#   sets: LOCK_ERROR LOCK_FD LOCK_PID LOCK_WAIT
#   reads: RUN_ID STAGE_ERROR STATE_DIR

readonly LOCK_FD=9
num_env_to LOCK_WAIT HOMELAB_LOCK_WAIT 5 0 600
readonly LOCK_WAIT
LOCK_ERROR=""

lock_file() { printf '%s/lock' "${STATE_DIR}"; }
lock_holder_file() { printf '%s/lock.holder' "${STATE_DIR}"; }

# lock_acquire STAGE COMMIT: 0 when this process holds the lock (and lock.holder names it), 1 when
# another process holds it after LOCK_WAIT seconds, 2 when the lock file cannot be opened or the
# holder cannot be recorded (LOCK_ERROR names the path and the cause).
# shellcheck disable=SC2034 # LOCK_ERROR is read by run.sh
lock_acquire() {
  local stage="$1"
  local commit="$2"
  local file="${STATE_DIR}/lock"
  LOCK_ERROR=""
  local err
  if [[ -e "${file}" && ! -f "${file}" ]]; then
    LOCK_ERROR="the lock ${file} is not a regular file: move it away"
    return 2
  fi
  if ! { : >>"${file}"; } 2>/dev/null && ! err="$({ : >>"${file}"; } 2>&1)"; then
    LOCK_ERROR="cannot open the lock ${file}: $(write_cause "${err}")"
    return 2
  fi
  chmod 600 -- "${file}" 2>/dev/null || true
  exec 9<"${file}"
  local rc=0
  if ((LOCK_WAIT > 0)); then
    flock -w "${LOCK_WAIT}" "${LOCK_FD}" || rc=$?
  else
    flock -n "${LOCK_FD}" || rc=$?
  fi
  if ((rc != 0)); then
    exec 9<&-
    return 1
  fi
  local start
  proc_start_to start "$$"
  # The user's name from /etc/passwd without a fork; `id` only for a user it does not list.
  local user=""
  local name
  local _pw
  local uid
  while IFS=: read -r name _pw uid _pw; do
    [[ "${uid}" != "${EUID}" ]] || {
      user="${name}"
      break
    }
  done </etc/passwd 2>/dev/null || true
  [[ -n "${user}" ]] || user="$(id -un 2>/dev/null || printf '%s' "${EUID}")"
  if ! atomic_write "${STATE_DIR}/lock.holder" "pid=$$
start=${start}
user=${user}
stage=${stage}
commit=${commit}
since=${EPOCHSECONDS}
run=${RUN_ID:-}
"; then
    LOCK_ERROR="cannot record the lock holder in ${STATE_DIR}/lock.holder: ${STAGE_ERROR#*: }"
    return 2
  fi
  return 0
}

# The "<maj>:<min>:<inode>" of the lock file as /proc/locks writes it, into VAR ("" when absent).
lock_id_to() {
  local -n _id_out="$1"
  _id_out=""
  local s
  s="$(stat -c '%d %i' -- "${STATE_DIR}/lock" 2>/dev/null)" || return 0
  local dev="${s% *}"
  local ino="${s#* }"
  [[ "${dev}" =~ ^[0-9]+$ && "${ino}" =~ ^[0-9]+$ ]] || return 0
  local major=$((((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff)))
  local minor=$(((dev & 0xff) | ((dev >> 12) & ~0xff)))
  printf -v _id_out '%02x:%02x:%s' "${major}" "${minor}" "${ino}"
}

# The lock file's inode number into VAR, without a fork: from /proc/self/fdinfo of the file
# opened for reading ("" when it cannot be opened or the kernel does not say).
lock_inode_to() {
  local -n _ino_out="$1"
  _ino_out=""
  local fd
  { exec {fd}<"${STATE_DIR}/lock"; } 2>/dev/null || return 0
  local -a info=()
  mapfile -t info </proc/self/fdinfo/"${fd}" 2>/dev/null || true
  exec {fd}<&-
  local line
  for line in "${info[@]}"; do
    [[ "${line}" =~ ^ino:[[:space:]]*([0-9]+)$ ]] || continue
    _ino_out="${BASH_REMATCH[1]}"
    return 0
  done
  return 0
}

# LOCK_PID: the pid /proc/locks gives for the lock (the process that called flock).
LOCK_PID=""
# True when some process holds the lock. Takes nothing: reads /proc/locks (see the header).
lock_is_held() {
  LOCK_PID=""
  # (the path of lock_file, without its subshell: status asks on every call)
  [[ -f "${STATE_DIR}/lock" ]] || return 1
  if [[ -r /proc/locks ]]; then
    local line
    local -a f
    # mapfile, not a read loop: bash's line reads seek back on /proc/locks after each line, and
    # every seek makes the kernel list all locks again (10 ms against 0.1 ms, measured here).
    local -a locks=()
    mapfile -t locks </proc/locks
    # No lock on any file with the lock file's inode number: not held, and no stat asked.
    local ino=""
    lock_inode_to ino
    if [[ -n "${ino}" ]]; then
      local held=""
      for line in "${locks[@]}"; do
        [[ "${line}" == *":${ino} "* ]] && held=1 && break
      done
      [[ -n "${held}" ]] || return 1
    fi
    local id
    lock_id_to id
    [[ -n "${id}" ]] || return 1
    for line in "${locks[@]}"; do
      [[ "${line}" == *" ${id} "* && "${line}" != *"->"* ]] || continue
      read -r -a f <<<"${line}"
      LOCK_PID="${f[4]:-}"
      return 0
    done
    return 1
  fi
  # No /proc/locks: a live recorded holder is the best evidence there is.
  local -A h=()
  lock_holder_read h
  [[ "${h[state]}" == run ]]
}

# lock_holder_read ASSOC: the holder of a held lock. state=run (pid, start, user, stage, commit,
# since, run from lock.holder, verified alive), state=starting (held, lock.holder not yet naming a
# live run), state=other (pid and command of a process that is not deploy.sh).
lock_holder_read() {
  local -n _h="$1"
  _h=()
  local info
  state_get_to info lock.holder
  kv_load _h "${info}"
  local now=""
  proc_start_to now "${_h[pid]:-}"
  if [[ -n "${now}" && "${now}" == "${_h[start]:-}" ]]; then
    _h[state]=run
    return 0
  fi
  _h=()
  _h[state]=starting
  if [[ "${LOCK_PID}" =~ ^[0-9]+$ && -r "/proc/${LOCK_PID}/cmdline" ]]; then
    local cmd=""
    local -a argv=()
    mapfile -d '' -t argv <"/proc/${LOCK_PID}/cmdline" 2>/dev/null || true
    cmd="${argv[*]:-}"
    if [[ -n "${cmd}" && "${cmd}" != *deploy.sh* ]]; then
      _h[state]=other
      _h[pid]="${LOCK_PID}"
      _h["command"]="${cmd:0:200}"
    fi
  fi
  return 0
}

# One line naming the holder of a held lock: "pid 123 (user root) running deploy for abc123
# since 2026-...", "a deploy.sh run that is starting", or "pid 77 (flock lock sleep 60), which is
# not a deploy.sh run".
lock_holder_text() {
  local -A h=()
  lock_holder_read h
  case "${h[state]}" in
    run)
      local when="unknown time"
      [[ "${h[since]:-}" =~ ^[0-9]+$ ]] && when="$(iso_time "${h[since]}")"
      printf 'pid %s (user %s) running %s for %s since %s' "${h[pid]:-}" "${h[user]:-}" \
        "${h[stage]:-}" "${h[commit]:-}" "${when}"
      ;;
    other) printf 'pid %s (%s), which is not a deploy.sh run' "${h[pid]}" "${h["command"]}" ;;
    *) printf 'a deploy.sh run that is starting (it has not written its name yet)' ;;
  esac
}

# Like lock_holder_text, for a loser: waits up to 2 s for a starting holder to write its name.
lock_holder_text_settled() {
  local i
  local -A h=()
  for ((i = 0; i < 20; i++)); do
    lock_is_held || break
    lock_holder_read h
    [[ "${h[state]}" == starting ]] || break
    sleep 0.1 9>&-
  done
  if lock_is_held; then
    lock_holder_text
  else
    printf 'a run that has finished since'
  fi
}

# lock_holder_json_to VAR: the holder as a JSON object for the status record, or null when free.
lock_holder_json_to() {
  local -n _lock_out="$1"
  _lock_out=null
  lock_is_held || return 0
  local -A h=()
  lock_holder_read h
  json_obj_to _lock_out pid:n "${h[pid]:-}" user "${h[user]:-}" stage "${h[stage]:-}" \
    commit "${h[commit]:-}" since:n "${h[since]:-}" holder "${h[state]}" command "${h["command"]:-}"
}
