#!/usr/bin/env bash
# The node protocol (docs/protocol.md): `@homelab/1 EVENT {json}` records and human log lines.
# Sourced by deploy.sh. Output goes to the run's log file (DEPLOY_LOG, when set) and to stdout
# (when DEPLOY_TO_STDOUT=1); errors and warnings go to stderr instead of stdout.
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: emit iso_time iso_time_to json_obj json_obj_to json_str json_str_to log_error log_info
#     log_line log_warn now_ms now_ms_to now_s num_env_to out_line proc_start_to
#   sets: DEPLOY_LOG DEPLOY_STAGE_NAME DEPLOY_TO_STDOUT LOG_WRITE_ERROR PROTOCOL_PREFIX TZ
#   reads: -

readonly PROTOCOL_PREFIX='@homelab/1'

DEPLOY_LOG="${DEPLOY_LOG:-}"
DEPLOY_TO_STDOUT="${DEPLOY_TO_STDOUT:-1}"
DEPLOY_STAGE_NAME="${DEPLOY_STAGE_NAME:-deploy.sh}"

# Milliseconds since the epoch, without forking (bash 5 EPOCHREALTIME); now_ms_to VAR: into VAR.
now_ms_to() {
  local t="${EPOCHREALTIME/,/.}"
  local frac="${t#*.}000"
  printf -v "$1" '%s%s' "${t%.*}" "${frac:0:3}"
}
now_ms() {
  local ms
  now_ms_to ms
  printf '%s' "${ms}"
}

# Seconds since the epoch.
now_s() {
  printf '%s' "${EPOCHSECONDS}"
}

# ISO-8601 UTC time of now, or of the epoch seconds given (iso_time_to VAR [WHEN]: into VAR).
iso_time_to() {
  TZ=UTC printf -v "$1" '%(%Y-%m-%dT%H:%M:%SZ)T' "${2:--1}"
}
iso_time() {
  local t
  iso_time_to t "${1:--1}"
  printf '%s' "${t}"
}

# num_env_to VAR NAME DEFAULT MIN MAX: VAR = the whole number in $NAME when it is one in MIN..MAX,
# else DEFAULT (and a warning on stderr naming the variable and the range). The value is matched
# by a regex BEFORE any arithmetic: bash evaluates `a[$(cmd)]` inside $(( )), (( )) and [[ -lt ]],
# so an unchecked variable would run a command. The one reader of numbers from the environment.
num_env_to() {
  local -n _num_out="$1"
  local name="$2"
  local value="${!name:-}"
  _num_out="$3"
  [[ -n "${value}" ]] || return 0
  if [[ "${value}" =~ ^[0-9]{1,9}$ ]] && ((10#${value} >= $4 && 10#${value} <= $5)); then
    _num_out="$((10#${value}))"
    return 0
  fi
  printf 'deploy.sh: warning: %s=%q is not a whole number from %s to %s: using %s\n' \
    "${name}" "${value}" "$4" "$5" "$3" >&2
  return 0
}

# The start time of a process (field 22 of /proc/PID/stat, clock ticks since boot) into VAR, ""
# when there is no such process. With the pid it names one process: a pid reused later has
# another start time.
proc_start_to() {
  local -n _start_out="$1"
  _start_out=""
  [[ "$2" =~ ^[0-9]+$ ]] || return 0
  local stat=""
  IFS= read -r stat </proc/"$2"/stat 2>/dev/null || return 0
  stat="${stat##*) }"
  local -a f=()
  read -r -a f <<<"${stat}"
  [[ "${f[19]:-}" =~ ^[0-9]+$ ]] && _start_out="${f[19]}"
  return 0
}

# The first failed write to the log file: "PATH: CAUSE" (the run then fails, run.sh).
LOG_WRITE_ERROR=""

# Writes one line to the log file and to stdout (or stderr when the second argument is `err`).
out_line() {
  local line="$1"
  local stream="${2:-out}"
  if [[ -n "${DEPLOY_LOG}" ]]; then
    if ! printf '%s\n' "${line}" >>"${DEPLOY_LOG}" 2>/dev/null && [[ -z "${LOG_WRITE_ERROR}" ]]; then
      local err
      err="$(printf '%s\n' "${line}" 2>&1 >>"${DEPLOY_LOG}")" || true
      err="${err##*: }"
      LOG_WRITE_ERROR="${DEPLOY_LOG}: ${err:-write failed}"
    fi
  fi
  if [[ "${DEPLOY_TO_STDOUT}" == 1 ]]; then
    if [[ "${stream}" == err ]]; then
      printf '%s\n' "${line}" >&2 2>/dev/null || true
    else
      printf '%s\n' "${line}" 2>/dev/null || true
    fi
  fi
}

# json_str_to VAR TEXT: sets VAR to the JSON string literal (with quotes) of TEXT; escapes \ "
# and every control character. No subshell: the status record is built on a hot path.
json_str_to() {
  local -n _json_out="$1"
  local s="$2"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\n'/\\n}"
  s="${s//$'\r'/\\r}"
  s="${s//$'\t'/\\t}"
  if [[ "${s}" =~ [[:cntrl:]] ]]; then
    local out=""
    local i
    local c
    for ((i = 0; i < ${#s}; i++)); do
      c="${s:i:1}"
      if [[ "${c}" =~ [[:cntrl:]] ]]; then
        printf -v c '\\u%04x' "'${c}"
      fi
      out+="${c}"
    done
    s="${out}"
  fi
  _json_out="\"${s}\""
}

# Prints the JSON string literal of the text given.
json_str() {
  local lit
  json_str_to lit "$1"
  printf '%s' "${lit}"
}

# json_obj_to VAR [KEY VALUE]...: sets VAR to a JSON object; a key written `name:n` is a number
# (null when the value is not one), `name:j` raw JSON (null when empty), anything else a string.
json_obj_to() {
  local -n _obj_out="$1"
  shift
  local body=""
  local key
  local val
  local k
  local v
  while (($# >= 2)); do
    key="$1"
    val="$2"
    shift 2
    case "${key}" in
      *:n)
        json_str_to k "${key%:n}"
        if [[ "${val}" =~ ^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then
          v="${val}"
        else
          v=null
        fi
        ;;
      *:j)
        json_str_to k "${key%:j}"
        v="${val:-null}"
        ;;
      *)
        json_str_to k "${key}"
        json_str_to v "${val}"
        ;;
    esac
    body+="${body:+,}${k}:${v}"
  done
  _obj_out="{${body}}"
}

# Prints a JSON object (see json_obj_to).
json_obj() {
  local obj
  json_obj_to obj "$@"
  printf '%s' "${obj}"
}

# emit EVENT [KEY VALUE]...: prints `@homelab/1 EVENT {"ts":...,KEY:VALUE,...}`.
emit() {
  local event="$1"
  shift
  local t="${EPOCHREALTIME/,/.}"
  local frac="${t#*.}000"
  local obj
  json_obj_to obj ts:n "${t%.*}${frac:0:3}" "$@"
  out_line "${PROTOCOL_PREFIX} ${event} ${obj}"
}

log_line() {
  local level="$1"
  shift
  local prefix="${DEPLOY_STAGE_NAME}:"
  [[ "${level}" == info ]] || prefix+=" ${level}:"
  local stream=out
  [[ "${level}" == info ]] || stream=err
  local t
  iso_time_to t -1
  out_line "${t} ${prefix} $*" "${stream}"
}

log_info() { log_line info "$@"; }
log_warn() { log_line warning "$@"; }
log_error() { log_line error "$@"; }
