#!/usr/bin/env bash
# Node state under <root>/state/deploy/: one file per key, every write atomic (a temp file in the
# same folder, then mv). STATE_DIR must be set by the caller.

STATE_DIR="${STATE_DIR:-}"

# Writes CONTENT to FILE atomically: readers see the old or the new content, never a mix.
atomic_write() {
  local file="$1"
  local content="$2"
  local dir
  dir="$(dirname -- "${file}")"
  local tmp
  tmp="$(mktemp "${dir}/.tmp.XXXXXX")" || return 1
  if ! printf '%s' "${content}" >"${tmp}"; then
    rm -f -- "${tmp}"
    return 1
  fi
  mv -f -- "${tmp}" "${file}"
}

# state_get KEY: prints the value (empty when unset).
state_get() {
  local file="${STATE_DIR}/$1"
  [[ -r "${file}" ]] || return 0
  local value
  value="$(<"${file}")"
  printf '%s' "${value}"
}

# state_get_to VAR KEY: like state_get, into VAR, without a subshell (status is a hot path).
state_get_to() {
  local -n _state_out="$1"
  _state_out=""
  local file="${STATE_DIR}/$2"
  [[ -r "${file}" ]] || return 0
  IFS= read -r -d '' _state_out <"${file}" || true
  _state_out="${_state_out%$'\n'}"
}

# kv_load ASSOC TEXT: fills the associative array with the `key=value` lines of TEXT.
kv_load() {
  local -n _kv_out="$1"
  local line
  while IFS= read -r line; do
    [[ "${line}" == *=* ]] && _kv_out["${line%%=*}"]="${line#*=}"
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
  if [[ -r "${file}" ]]; then
    old="$(tail -n 499 -- "${file}")"
    old+=$'\n'
  fi
  atomic_write "${file}" "${old}$1"$'\n'
}
