#!/usr/bin/env bash
# Node state under <root>/state/deploy/: one file per key. STATE_DIR must be set by the caller.
#
# Every write is durable and atomic: a temp file `.tmp.<run pid>.XXXXXX` in the same folder
# (mode 600, mktemp's), write, fsync it (`sync FILE`), rename over the target (`mv -T`: a folder in
# the way is an error, not a place to move into), fsync the folder (`sync DIR`). After a power cut a
# reader sees the old or the new content, never an empty or partial file. Every write helper
# returns non-zero when any of that fails, after calling `write_failed PATH CAUSE` (run.sh: a
# `write` step record naming the path and the cause, e.g. "No space left on device"), and never
# leaves its temp file behind (temp files of a killed run are removed by the next run:
# state_clean_temps).
#
# Reads never print bash warnings: a NUL byte ends the value (state_check reports such a file).
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: atomic_abort atomic_write cache_write kv_get kv_load state_append_history state_check
#     state_clean_temps state_get state_get_to state_read_to state_set temp_file_to write_cause
#     write_failed
#   sets: ATOMIC_SH ATOMIC_TMP STATE_BAD STATE_CHECK_ERROR STATE_DIR STATE_UMASK
#   reads: -

STATE_DIR="${STATE_DIR:-}"
# The temp file an atomic_write is writing right now (removed by the signal and exit handlers).
ATOMIC_TMP=""
# The process's umask (from /proc, no fork), restored after each temp file is made with 077.
STATE_UMASK=""
while IFS=$':\t ' read -r _um_key STATE_UMASK; do
  [[ "${_um_key}" == Umask ]] && break
  STATE_UMASK=""
done </proc/self/status 2>/dev/null || true
unset _um_key
[[ "${STATE_UMASK}" =~ ^[0-7]{3,4}$ ]] || STATE_UMASK="$(umask)"

# write_failed PATH CAUSE: run.sh defines the reporting one; this default only tells stderr.
if ! declare -F write_failed >/dev/null; then
  write_failed() { printf 'deploy.sh: cannot write %s: %s\n' "$1" "$2" >&2; }
fi

# The cause at the end of a tool's error message ("mv: cannot move 'a' to 'b': Read-only file
# system" -> "Read-only file system").
write_cause() {
  local msg="${1%$'\n'}"
  msg="${msg##*$'\n'}"
  [[ -n "${msg}" ]] || msg="unknown error"
  printf '%s' "${msg##*: }"
}

# What atomic_write runs after writing the temp file $1: fsync it, rename it over $2, fsync the
# folder $3. Exit 1: the temp file is still there (not renamed); 2: only the folder's fsync failed.
# shellcheck disable=SC2016 # expanded by that sh
ATOMIC_SH='sync -- "$1" && mv -fT -- "$1" "$2" || exit 1
sync -- "$3" || exit 2'

# atomic_write FILE CONTENT: durable, atomic replacement of FILE (see the header).
atomic_write() {
  local file="$1"
  local content="$2"
  local dir="${file%/*}"
  [[ "${dir}" != "${file}" ]] || dir=.
  # What mktemp gives, without its fork: a name no one has (noclobber opens with O_EXCL), mode 600.
  local tmp="${dir}/.tmp.$$.${RANDOM}${RANDOM}${RANDOM}"
  local err
  local made=1
  ATOMIC_TMP="${tmp}"
  umask 077
  set -o noclobber
  { printf '%s' "${content}" >"${tmp}"; } 2>/dev/null || made=0
  set +o noclobber
  umask "${STATE_UMASK}"
  local rc=0
  # Only a failure pays a second try to learn the cause.
  if ((!made)); then
    err="$(umask 077 && printf '%s' "${content}" 2>&1 >|"${tmp}")" || rc=1
  fi
  # The durable part in one fork of this (large) shell: a small sh runs sync, mv and sync.
  ((rc != 0)) || err="$(exec sh -c "${ATOMIC_SH}" sh "${tmp}" "${file}" "${dir}" 2>&1)" || rc=$?
  if ((rc != 0 && rc != 2)); then
    rm -f -- "${tmp}" 2>/dev/null || true
  fi
  ATOMIC_TMP=""
  if ((rc != 0)); then
    write_failed "${file}" "$(write_cause "${err}")"
    return 1
  fi
  return 0
}

# temp_file_to VAR PREFIX: a new empty file PREFIX.<pid>.<random> (created exclusively, mode 600:
# what mktemp gives, without its fork), its path into VAR; returns 1 with the error text in VAR.
temp_file_to() {
  local -n _tf_out="$1"
  local path
  local try
  for try in 1 2 3; do
    path="$2.$$.${RANDOM}${RANDOM}${RANDOM}"
    umask 077
    set -o noclobber
    if { : >"${path}"; } 2>/dev/null; then
      set +o noclobber
      umask "${STATE_UMASK}"
      _tf_out="${path}"
      return 0
    fi
    set +o noclobber
    umask "${STATE_UMASK}"
  done
  _tf_out="$(umask 077 && set -o noclobber && { : >"${path}"; } 2>&1)" || true
  [[ -n "${_tf_out}" ]] || _tf_out="cannot create ${path} (try ${try})"
  return 1
}

# cache_write FILE FORMAT ARGS...: a cache beside the state (what a later run may reuse, or work
# out again), its text `printf FORMAT ARGS...` (NUL bytes too): mode 600, written whole then
# renamed, no fsync and no failure (a read-only or full disk just means no cache). Readers check
# what they read.
cache_write() {
  local file="$1"
  local dir="${file%/*}"
  shift
  [[ -d "${dir}" && -w "${dir}" ]] || return 0
  local tmp="${dir}/.tmp.$$.cache"
  local made=1
  umask 077
  # shellcheck disable=SC2059 # the caller's format
  { printf "$@" >"${tmp}"; } 2>/dev/null || made=0
  umask "${STATE_UMASK}"
  if ((made)); then
    mv -fT -- "${tmp}" "${file}" 2>/dev/null || rm -f -- "${tmp}" 2>/dev/null || true
  else
    rm -f -- "${tmp}" 2>/dev/null || true
  fi
  return 0
}

# Removes the temp file of an atomic_write cut short (signal and exit handlers).
atomic_abort() {
  [[ -z "${ATOMIC_TMP}" ]] || rm -f -- "${ATOMIC_TMP}" 2>/dev/null || true
  ATOMIC_TMP=""
}

# state_clean_temps: removes the temp files (`.tmp.*`, `.compose-err.*`, `.git-out.*`) of runs
# that are gone. Called by a run that holds the lock, so only a lock holder writes such files and
# any that exist are a killed run's; a `.tmp.<pid>.*` whose pid is alive (a read-only command's
# atomic_write, which no stage does today) is kept.
state_clean_temps() {
  [[ -d "${STATE_DIR}" ]] || return 0
  local f
  local -a gone=()
  for f in "${STATE_DIR}"/.tmp.* "${STATE_DIR}"/.compose-err.* "${STATE_DIR}"/.git-out.*; do
    [[ -f "${f}" || -L "${f}" ]] || continue
    if [[ "${f##*/}" =~ ^\.tmp\.([0-9]+)\. ]] && [[ "${BASH_REMATCH[1]}" != "$$" && -d "/proc/${BASH_REMATCH[1]}" ]]; then
      continue
    fi
    gone+=("${f}")
  done
  ((${#gone[@]} == 0)) || rm -f -- "${gone[@]}" 2>/dev/null || true
  return 0
}

# state_read_to VAR FILE: the file's text into VAR without a subshell or warning (NUL ends it).
state_read_to() {
  local -n _read_out="$1"
  _read_out=""
  [[ -f "$2" && -r "$2" && -z "${STATE_BAD["${2##*/}"]:-}" ]] || return 0
  IFS= read -r -d '' _read_out <"$2" 2>/dev/null || true
  _read_out="${_read_out%$'\n'}"
}

# state_get KEY: prints the value (empty when unset).
state_get() {
  local value
  state_read_to value "${STATE_DIR}/$1"
  printf '%s' "${value}"
}

# state_get_to VAR KEY: like state_get, into VAR, without a subshell (status is a hot path).
state_get_to() {
  local -n _state_out="$1"
  local _state_v
  state_read_to _state_v "${STATE_DIR}/$2"
  _state_out="${_state_v}"
}

# kv_load ASSOC TEXT: fills the associative array with the `key=value` lines of TEXT.
kv_load() {
  local -n _kv_out="$1"
  local line
  while IFS= read -r line; do
    [[ "${line}" =~ ^[a-z_]+= ]] && _kv_out["${line%%=*}"]="${line#*=}"
  done <<<"$2"
  return 0
}

# state_set KEY VALUE
state_set() {
  atomic_write "${STATE_DIR}/$1" "$2"$'\n'
}

# kv_get TEXT KEY: the value of `KEY=value` in key=value lines.
kv_get() {
  local text="$1"
  local key="$2"
  local line
  while IFS= read -r line; do
    if [[ "${line}" == "${key}="* ]]; then
      printf '%s' "${line#*=}"
      return 0
    fi
  done <<<"${text}"
  return 0
}

# state_append_history LINE: keeps the last 500 lines, rewritten atomically.
state_append_history() {
  local file="${STATE_DIR}/history"
  local old=""
  if [[ -f "${file}" ]]; then
    local -a lines=()
    # (in this shell: a NUL byte ends its line)
    mapfile -t lines <"${file}" 2>/dev/null || lines=()
    ((${#lines[@]} <= 499)) || lines=("${lines[@]: -499}")
    ((${#lines[@]} == 0)) || printf -v old '%s\n' "${lines[@]}"
  fi
  atomic_write "${file}" "${old}$1"$'\n'
}

# state_check: STATE_CHECK_ERROR naming the first state file that is not what deploy.sh
# writes (a folder, a symlink, another kind of file, over 1 MiB, a NUL or control byte, a value of
# the wrong shape), with the fix; empty when every file is sound. Files that are absent are fine.
# Pure bash, no fork: status runs it too.
STATE_CHECK_ERROR=""
# The state files state_check found unsound: state_get and friends read them as empty.
declare -A STATE_BAD=()
# shellcheck disable=SC2034 # STATE_CHECK_ERROR is read by run.sh
state_check() {
  STATE_CHECK_ERROR=""
  local name
  local file
  local text
  local line
  local why
  STATE_BAD=()
  local -a present=()
  for name in node current_stage target deployed known_good services.tsv last_run history lock.holder confirm; do
    [[ -e "${STATE_DIR}/${name}" || -L "${STATE_DIR}/${name}" ]] && present+=("${STATE_DIR}/${name}")
  done
  ((${#present[@]} > 0)) || return 0
  # Sizes first (one stat for all): a huge file is not read at all.
  local -A size=()
  local sz
  local sf
  while read -r sz sf; do
    [[ "${sz}" =~ ^[0-9]+$ ]] && size["${sf}"]="${sz}"
  done < <(stat -c '%s %n' -- "${present[@]}" 2>/dev/null)
  for file in "${present[@]}"; do
    name="${file##*/}"
    why=""
    if [[ -L "${file}" ]]; then
      why="is a symbolic link"
    elif [[ -d "${file}" ]]; then
      why="is a folder"
    elif [[ ! -f "${file}" ]]; then
      why="is not a regular file"
    elif [[ ! -r "${file}" ]]; then
      why="cannot be read"
    elif ((${size["${file}"]:-0} > 1048576)); then
      why="is larger than 1 MiB"
    elif text="" && IFS= read -r -d '' text <"${file}" 2>/dev/null; then
      why="holds a NUL byte"
    elif [[ "${text//[$'\n\t']/}" =~ [[:cntrl:]] ]]; then
      why="holds control bytes"
    else
      text="${text%$'\n'}"
      case "${name}" in
        node)
          [[ "${text}" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || why="does not hold a node name"
          ;;
        target | deployed | known_good)
          [[ -z "${text}" || "${text}" =~ ^[0-9a-f]{40}([0-9a-f]{24})?$ ]] || why="does not hold a commit sha"
          ;;
        current_stage | last_run | lock.holder | confirm)
          while IFS= read -r line; do
            [[ -z "${line}" || "${line}" =~ ^[a-z_]+= ]] || {
              why="has a line that is not key=value"
              break
            }
          done <<<"${text}"
          if [[ -z "${why}" && "${name}" == confirm ]]; then
            local -A cf=()
            kv_load cf "${text}"
            case "${cf[state]:-}" in
              waiting | confirmed | rolling-back | rolled-back) ;;
              *) why="has no valid state (state=${cf[state]:-})" ;;
            esac
            [[ -n "${why}" || "${cf[commit]:-}" =~ ^[0-9a-f]{40}([0-9a-f]{24})?$ ]] || why="has a commit that is not a commit sha"
            [[ -n "${why}" || "${cf[deadline]:-}" =~ ^[0-9]{1,12}$ ]] || why="has a deadline that is not a number"
          fi
          if [[ -z "${why}" && "${name}" == current_stage ]]; then
            local -A cs=()
            kv_load cs "${text}"
            case "${cs[stage]:-}" in
              prepare | deploy | verify | rollback) ;;
              *) why="names no stage (stage=${cs[stage]:-})" ;;
            esac
            case "${cs[status]:-}" in
              running | ok | failed | interrupted) ;;
              *) [[ -n "${why}" ]] || why="has no valid status (status=${cs[status]:-})" ;;
            esac
            [[ -n "${why}" || -z "${cs[target]:-}" || "${cs[target]}" =~ ^[0-9a-f]{7,64}$ ]] ||
              why="has a target that is not a commit sha"
          fi
          ;;
        services.tsv)
          while IFS= read -r line; do
            [[ -z "${line}" || "${line}" =~ ^[^$'\t']+$'\t'[^$'\t']+$'\t'[^$'\t']*$ ]] || {
              why="has a line that is not service<TAB>hash<TAB>commit"
              break
            }
          done <<<"${text}"
          ;;
      esac
    fi
    if [[ -n "${why}" ]]; then
      STATE_BAD["${name}"]=1
      STATE_CHECK_ERROR="state file ${file} ${why}: it was not written by deploy.sh; move it away (mv ${file} ${file}.bad) and run the stage again"
      return 1
    fi
  done
  return 0
}
