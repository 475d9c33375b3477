#!/usr/bin/env bash
# Redaction on the node, for everything deploy.sh logs or prints and for diagnose and the recover
# prompt. Before a text is written anywhere or leaves the node, these are replaced by [REDACTED]:
#   - every value of every <root>/config/*/.env, read the way Docker Compose reads it (comments after
#     unquoted values, \" \n \t in double quotes, literal single quotes, export, ${VAR} interpolation,
#     multi-line values: test/integration/deploy/redact-env-compose.test.ts checks it against Compose);
#   - every literal of a host-local override's environment: (map or KEY=value list) and of the
#     env_file it names;
#   - each of those in every form Docker, Compose and Go print it: Go-quoted (%q, %+q), JSON-escaped,
#     byte-escaped (\xc3\x84), and each line of a multi-line value;
#   - the head of any of them (>= REDACT_PREFIX_MIN bytes) left at the end of a line by a cut, or
#     its tail at the start of one (Docker keeps 4096 bytes of health output);
#   - anything shaped like a token, key or password: the rules of lib/redact-rules.json, the one list
#     SATURN's src/core/recover/redact.ts applies too.
# A value shorter than 3 bytes is not replaced (it would shred every text). A value equal to a
# common word is replaced wherever it appears, inside other words too: the text suffers, the secret
# does not leak. What a service re-encodes itself (base64 of a secret in its own log) is out of
# reach of literal redaction.
#
#   secrets_load ROOT    loads the forms (kept only in SECRET_VALUES, in memory, never written)
#   redact TEXT          prints TEXT redacted; fails closed (prints a marker, not the text) when the
#                        filter cannot run
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: confined_file redact redact_rules_load redact_stream secrets_load
#   sets: CONFINED_ERROR REDACTED REDACT_LIB REDACT_LOAD_FAILED REDACT_LOAD_MARK REDACT_PREFIX_MIN
#     REDACT_RULES SECRET_VALUES
#   reads: STATE_DIR

REDACTED='[REDACTED]'
REDACT_PREFIX_MIN=8
SECRET_VALUES=()
REDACT_RULES=()
REDACT_LOAD_FAILED=0
REDACT_LOAD_MARK=$'\001redact-load-failed'
# (no fork when sourced by an absolute path, as deploy.sh does)
REDACT_LIB="${BASH_SOURCE[0]%/*}"
[[ "${BASH_SOURCE[0]}" == /* ]] || REDACT_LIB="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"

# Reads the shape rules once per process (JSON::PP costs ~40 ms; each redact then costs a bare
# perl). A run with a state folder keeps them in <state>/redact-rules.cache (the NUL-separated list
# redact.pl prints, then `end`), used while it is newer than redact-rules.json and redact.pl (a
# checkout of other scripts makes them newer): a run reads the file instead of starting perl.
redact_rules_load() {
  ((${#REDACT_RULES[@]} > 0)) && return 0
  local json="${REDACT_LIB}/redact-rules.json"
  local cache="${STATE_DIR:-}/redact-rules.cache"
  if [[ -n "${STATE_DIR:-}" && -f "${cache}" && "${cache}" -nt "${json}" && "${cache}" -nt "${REDACT_LIB}/redact.pl" ]]; then
    mapfile -d '' -t REDACT_RULES <"${cache}" 2>/dev/null || REDACT_RULES=()
    if ((${#REDACT_RULES[@]} > 4)) && [[ "${REDACT_RULES[-1]}" == end ]]; then
      unset 'REDACT_RULES[-1]'
      ((${#REDACT_RULES[@]} % 4 == 0)) && return 0
    fi
    REDACT_RULES=()
  fi
  mapfile -d '' -t REDACT_RULES < <(perl "${REDACT_LIB}/redact.pl" rules "${json}")
  if ((${#REDACT_RULES[@]} < 4 || ${#REDACT_RULES[@]} % 4 != 0)); then
    REDACT_RULES=()
    return 1
  fi
  [[ -z "${STATE_DIR:-}" ]] || cache_write "${cache}" '%s\0' "${REDACT_RULES[@]}" end
  return 0
}

secrets_load() {
  local root="$1"
  SECRET_VALUES=()
  REDACT_LOAD_FAILED=0
  # Here, in the caller's shell: redact runs in $(...) subshells, which would each load them again.
  redact_rules_load || REDACT_LOAD_FAILED=1
  # The forms never touch a file: a pipe into mapfile, in this shell.
  mapfile -d '' -t SECRET_VALUES < <(perl "${REDACT_LIB}/redact.pl" forms "${root}" || printf '%s\0' "${REDACT_LOAD_MARK}")
  if ((${#SECRET_VALUES[@]} > 0)) && [[ "${SECRET_VALUES[-1]}" == "${REDACT_LOAD_MARK}" ]]; then
    SECRET_VALUES=()
    REDACT_LOAD_FAILED=1
  fi
  return 0
}

# Prints TEXT with every loaded value (in every form) and every credential-shaped text replaced.
redact() {
  local text="$1"
  [[ -z "${text}" ]] && return 0
  local out
  if ((REDACT_LOAD_FAILED)) || ! redact_rules_load || ! out="$(
    printf '%s' "${text}" | perl "${REDACT_LIB}/redact.pl" redact "${REDACT_PREFIX_MIN}" \
      3< <(((${#SECRET_VALUES[@]} == 0)) || printf '%s\0' "${SECRET_VALUES[@]}") \
      4< <(printf '%s\0' "${REDACT_RULES[@]}")
    printf x
  )"; then
    printf '%s (the redaction filter lib/redact.pl could not run)' "${REDACTED}"
    return 0
  fi
  printf '%s' "${out%x}"
}

# stdin -> stdout, redacted (the same as redact "$(cat)", without losing trailing newlines).
redact_stream() {
  local text
  text="$(
    cat
    printf x
  )"
  redact "${text%x}"
}

# confined_file DIR FILE: 0 when FILE is absent, or a regular file inside DIR (itself or through a
# symlink whose target stays inside DIR); else 1 with CONFINED_ERROR. The node never reads a file
# it did not write through a symlink that leaves its folder (seen: a compose file linked to
# /etc/shadow, its lines quoted in Compose's error).
CONFINED_ERROR=""
# shellcheck disable=SC2034 # sets a global that the stages and diagnose read
confined_file() {
  local dir="$1"
  local file="$2"
  CONFINED_ERROR=""
  [[ -e "${file}" || -L "${file}" ]] || return 0
  local real_dir
  local real
  real_dir="$(realpath -e -- "${dir}" 2>/dev/null)" || real_dir="${dir}"
  if ! real="$(realpath -e -- "${file}" 2>/dev/null)"; then
    CONFINED_ERROR="${file} is a symlink to nothing: refused"
    return 1
  fi
  if [[ "${real}" != "${real_dir}/"* ]]; then
    CONFINED_ERROR="${file} is a symlink to ${real}, outside ${dir}: refused (replace it by a regular file)"
    return 1
  fi
  if [[ ! -f "${real}" ]]; then
    CONFINED_ERROR="${file} is not a regular file: refused"
    return 1
  fi
  return 0
}
