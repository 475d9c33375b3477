#!/usr/bin/env bash
# Docker Compose v2 for one service: its project, its -f/--env-file arguments, the hash of its
# resolved configuration, and redaction of .env values from anything that reaches the log.
# `docker compose config` output holds interpolated secrets: it is only ever hashed, never logged.

# External commands that may run long (docker, git, curl, sleep) get the lock descriptor closed
# (9>&-), so no child outlives a killed run holding the lock.
dk() { docker "$@" 9>&-; }
gt() { git -C "${REPO}" "$@" 9>&-; }

project_name() { printf '%s_%s' "${NODE}" "$1"; }
service_dir() { printf '%s/hosts/%s/%s' "${REPO}" "${NODE}" "$1"; }
service_env() { printf '%s/%s/.env' "${CONFIG_DIR}" "$1"; }
service_override() { printf '%s/%s/docker-compose.override.yml' "${CONFIG_DIR}" "$1"; }

# Sets COMPOSE_ARGS for the service: -p <node>_<svc> -f compose [-f override] [--env-file .env].
COMPOSE_ARGS=()
compose_args() {
  local svc="$1"
  COMPOSE_ARGS=(-p "$(project_name "${svc}")" -f "$(service_dir "${svc}")/docker-compose.yml")
  [[ -f "$(service_override "${svc}")" ]] && COMPOSE_ARGS+=(-f "$(service_override "${svc}")")
  [[ -f "$(service_env "${svc}")" ]] && COMPOSE_ARGS+=(--env-file "$(service_env "${svc}")")
  return 0
}

# Compose v2 is required: v1 ignores v2 flags (`up --wait`, `ps --format json`) and exits 0.
# Sets DOCKER_DETAIL; returns 1 with DOCKER_ERROR when docker or compose v2 is unusable.
DOCKER_DETAIL=""
DOCKER_ERROR=""
# shellcheck disable=SC2034 # sets globals that deploy.sh and the other libs read
docker_check() {
  local server
  if ! server="$(dk version --format '{{.Server.Version}}' 2>&1)"; then
    DOCKER_ERROR="docker does not answer: $(printf '%s' "${server}" | tail -n 1)"
    return 1
  fi
  local compose
  if ! compose="$(dk compose version --short 2>/dev/null)"; then
    DOCKER_ERROR="docker compose v2 is missing (the v1 docker-compose is not supported: it ignores v2 flags)"
    return 1
  fi
  compose="${compose#v}"
  if [[ "${compose%%.*}" -lt 2 ]] 2>/dev/null || [[ ! "${compose%%.*}" =~ ^[0-9]+$ ]]; then
    DOCKER_ERROR="docker compose ${compose} is not v2"
    return 1
  fi
  DOCKER_DETAIL="engine ${server}, compose ${compose}"
  return 0
}

# Logs each line of command output (redacted), indented.
log_output() {
  local text
  text="$(redact "$1")"
  local line
  while IFS= read -r line; do
    [[ -n "${line}" ]] && log_info "  ${line}"
  done <<<"${text}"
  return 0
}

# Names of keys declared for the service that are missing or empty in its .env (space-separated).
missing_secret_keys() {
  local svc="$1"
  local env
  env="$(service_env "${svc}")"
  local key
  local missing=""
  for key in ${MANIFEST_SECRETS["${svc}"]:-}; do
    if [[ ! -r "${env}" ]] || ! grep -Eq "^[[:space:]]*(export[[:space:]]+)?${key}[[:space:]]*=[[:space:]]*[^[:space:]]" "${env}"; then
      missing+="${missing:+ }${key}"
    fi
  done
  printf '%s' "${missing}"
}

# Validates the service's compose files; on failure sets COMPOSE_ERROR (redacted stderr).
COMPOSE_ERROR=""
compose_validate() {
  local svc="$1"
  compose_args "${svc}"
  local err
  if ! err="$(dk compose "${COMPOSE_ARGS[@]}" config --quiet 2>&1 >/dev/null)"; then
    COMPOSE_ERROR="$(redact "${err}")"
    return 1
  fi
  return 0
}

# Prints the service's deployed-configuration hash: resolved compose config + .env + override +
# every file under hosts/<node>/<svc>/. Returns 1 (COMPOSE_ERROR set) when compose rejects it.
# shellcheck disable=SC2034 # sets globals that deploy.sh and the other libs read
service_hash() {
  local svc="$1"
  compose_args "${svc}"
  local errf
  errf="$(mktemp "${STATE_TMP:-/tmp}/.compose-err.XXXXXX")"
  local cfg
  if ! cfg="$(dk compose "${COMPOSE_ARGS[@]}" config 2>"${errf}" | sha256sum)"; then
    COMPOSE_ERROR="$(redact "$(<"${errf}")")"
    rm -f -- "${errf}"
    return 1
  fi
  rm -f -- "${errf}"
  local files
  files="$({
    printf 'config %s\n' "${cfg%% *}"
    [[ -f "$(service_env "${svc}")" ]] && printf 'env %s\n' "$(sha256sum <"$(service_env "${svc}")")"
    [[ -f "$(service_override "${svc}")" ]] && printf 'override %s\n' "$(sha256sum <"$(service_override "${svc}")")"
    cd -- "$(service_dir "${svc}")" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
  } | sha256sum)"
  printf '%s' "${files%% *}"
}

# Containers of a project: lines "name<TAB>state<TAB>health" (health: healthy, unhealthy,
# starting, none), from one `docker ps` call.
project_containers() {
  local project="$1"
  local out
  out="$(dk ps -a --filter "label=com.docker.compose.project=${project}" --format '{{.Names}}	{{.State}}	{{.Status}}')" || return 1
  local name
  local state
  local st
  while IFS=$'\t' read -r name state st; do
    [[ -n "${name}" ]] || continue
    printf '%s\t%s\t%s\n' "${name}" "${state}" "$(health_of "${st}")"
  done <<<"${out}"
}

# Health from `docker ps` Status text.
health_of() {
  case "$1" in
    *"(healthy)"*) printf 'healthy' ;;
    *"(unhealthy)"*) printf 'unhealthy' ;;
    *"(health: starting)"*) printf 'starting' ;;
    *) printf 'none' ;;
  esac
}
