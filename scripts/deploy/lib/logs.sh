#!/usr/bin/env bash
# deploy.sh logs SERVICE [--tail N] [--since WHEN] [--follow]: the logs of a service's containers
# (`docker compose logs` of its project, with the same -f/--env-file arguments as deploy), every
# line redacted on the node before it leaves it (lib/redact.pl stream: the .env values in every
# form, the shape rules), one line at a time. Timestamps are always asked for (RFC 3339, after the
# container's name): SATURN shows or hides them without asking again. Read-only: no lock, no state.
#
# Following: sshd does not signal a remote command when the client goes away, and a quiet container
# writes nothing that would fail. So while following, a heartbeat line goes to stderr every
# LOGS_HEARTBEAT_SECS seconds (SATURN drops it): when that write fails (the connection is gone),
# the whole command ends.
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: logs_command logs_redact
#   sets: LOGS_HEARTBEAT LOGS_HEARTBEAT_SECS
#   reads: COMPOSE_ARGS CONFINED_ERROR DOCKER_TIMEOUT NODE REDACT_LIB REDACT_PREFIX_MIN REDACT_RULES
#     ROOT SECRET_VALUES

LOGS_HEARTBEAT='deploy.sh: logs: following'
LOGS_HEARTBEAT_SECS=5

# logs_command SERVICE TAIL SINCE FOLLOW
logs_command() {
  local svc="$1"
  local tail="$2"
  local since="$3"
  local follow="$4"
  local dir
  dir="$(service_dir "${svc}")"
  if [[ ! -f "${dir}/docker-compose.yml" ]]; then
    printf 'deploy.sh: logs: %s has no service %s (%s/docker-compose.yml is missing in the checkout)\n' "${NODE}" "${svc}" "${dir}" >&2
    return 1
  fi
  local f
  for f in "${dir}/docker-compose.yml" "$(service_override "${svc}")" "$(service_env "${svc}")"; do
    if ! confined_file "${f%/*}" "${f}"; then
      printf 'deploy.sh: logs: %s\n' "${CONFINED_ERROR}" >&2
      return 1
    fi
  done
  secrets_load "${ROOT}"
  if ((REDACT_LOAD_FAILED)) || ! redact_rules_load; then
    printf 'deploy.sh: logs: the redaction filter lib/redact.pl cannot run: no log is printed unredacted\n' >&2
    return 1
  fi
  compose_args "${svc}"
  local -a args=(compose "${COMPOSE_ARGS[@]}" logs --no-color --timestamps --tail "${tail}")
  [[ -z "${since}" ]] || args+=(--since "${since}")
  local heartbeat=""
  if ((follow)); then
    args+=(--follow)
    (
      trap '' PIPE
      while sleep "${LOGS_HEARTBEAT_SECS}"; do
        printf '%s %s\n' "${LOGS_HEARTBEAT}" "${svc}" >&2 || break
      done
      # The connection is gone: end docker, the filter and this script (one process group).
      kill -TERM 0
    ) 9>&- &
    heartbeat=$!
    # shellcheck disable=SC2064 # the pid is known now
    trap "kill ${heartbeat} 2>/dev/null || true" EXIT
  fi
  local rc=0
  if ((follow)); then
    docker "${args[@]}" 2>&1 9>&- | logs_redact || rc=$?
  else
    bounded "${DOCKER_TIMEOUT}" "compose logs of $(project_name "${svc}")" docker "${args[@]}" 2>&1 | logs_redact || rc=$?
  fi
  return "${rc}"
}

# stdin -> stdout, each line redacted as it arrives.
logs_redact() {
  perl "${REDACT_LIB}/redact.pl" stream "${REDACT_PREFIX_MIN}" \
    3< <(((${#SECRET_VALUES[@]} == 0)) || printf '%s\0' "${SECRET_VALUES[@]}") \
    4< <(printf '%s\0' "${REDACT_RULES[@]}")
}
