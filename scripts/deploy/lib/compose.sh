#!/usr/bin/env bash
# Docker Compose v2 for one service: its project, its -f/--env-file arguments, the hash of its
# resolved configuration, and redaction of .env values from anything that reaches the log.
# `docker compose config` output holds interpolated secrets: it is only ever hashed, never logged.
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: bounded compose_args compose_cached_to compose_key_to compose_leftovers_clean
#     compose_validate config_image_flush config_images_to container_event_wait dk dk_long
#     docker_check docker_what env_secs gt health_of_to log_output missing_secret_keys
#     node_containers_to node_ps_forget node_ps_to project_containers project_name project_name_to
#     service_dir service_dir_to service_env service_env_to service_hash service_hash_to
#     service_inputs_to service_override service_override_to temp_files_clean timed_out
#   sets: COMPOSE_ARGS COMPOSE_ERROR CONFIG_FROM CONFIG_HASH CONFIG_IMAGES CONFIG_SUM
#     CONFIG_SUM_FROM DOCKER_CHECKED DOCKER_DETAIL DOCKER_ERROR LEFTOVERS_DONE LEFTOVERS_ERROR
#     LISTED LISTED_CONTAINERS NODE_CONTAINERS_ERROR NODE_PS NODE_PS_AT NODE_PS_ERROR NODE_PS_OK
#   reads: BASH_CMDS COMPOSE_UP_TIMEOUT CONFIG_DIR DOCKER_CONFIG DOCKER_TIMEOUT GIT_TIMEOUT
#     MANIFEST_SECRETS NODE REPO STATE_DIR

# External commands that may run long (docker, git, curl, sleep) get the lock descriptor closed
# (9>&-), so no child outlives a killed run holding the lock, and every docker and git call has a
# bound (coreutils `timeout`, seconds from the environment):
#   HOMELAB_DOCKER_TIMEOUT      quick docker calls: version, ps, compose config, rm, rename (30)
#   HOMELAB_COMPOSE_UP_TIMEOUT  compose up, down, pull (600)
#   HOMELAB_GIT_TIMEOUT         every git call, fetch included (120)
# `--foreground` keeps the call in the run's process group, so a kill of the group (a power cut, a
# test) takes compose with it; on the bound, TERM then KILL 5 s later. A call that ran out of time
# returns 124 and prints "docker did not answer within N s during WHAT" as its last stderr line.

# env_secs NAME DEFAULT: the whole number of seconds in $NAME (1..86400), else DEFAULT (a value
# that is not a number is said once in the log and ignored).
env_secs() {
  local secs
  num_env_to secs "$1" "$2" 1 86400
  printf '%s' "${secs}"
}
# (num_env_to, not $(env_secs): every fork of deploy.sh counts, and this runs in each process)
num_env_to DOCKER_TIMEOUT HOMELAB_DOCKER_TIMEOUT 30 1 86400
num_env_to COMPOSE_UP_TIMEOUT HOMELAB_COMPOSE_UP_TIMEOUT 600 1 86400
num_env_to GIT_TIMEOUT HOMELAB_GIT_TIMEOUT 120 1 86400

# What a docker call is doing, for the timeout message: "compose up of <project>", "docker ps".
docker_what() {
  if [[ "${1:-}" != compose ]]; then
    printf 'docker %s' "${1:-}"
    return 0
  fi
  shift
  local project=""
  local sub=""
  while (($# > 0)); do
    case "$1" in
      -p | --project-name)
        project="${2:-}"
        shift 2 || break
        ;;
      -f | --file | --env-file | --project-directory)
        shift 2 || break
        ;;
      -*) shift ;;
      *)
        sub="$1"
        break
        ;;
    esac
  done
  printf 'compose %s%s' "${sub}" "${project:+ of ${project}}"
}

# bounded SECS WHAT CMD...: CMD under `timeout`, fd 9 closed. An empty WHAT for docker is said
# by docker_what, worked out only when the call ran out of time (no fork on the way).
bounded() {
  local secs="$1"
  local what="$2"
  shift 2
  local rc=0
  timeout --foreground -k 5 "${secs}" "$@" 9>&- || rc=$?
  if ((rc == 124 || rc == 137)); then
    [[ -n "${what}" ]] || what="$(docker_what "${@:2}")"
    printf '%s did not answer within %s s during %s\n' "${1}" "${secs}" "${what}" >&2
    rc=124
  fi
  return "${rc}"
}

# True when RC is the exit of a call that ran out of time.
timed_out() { (($1 == 124)); }

dk() { bounded "${DOCKER_TIMEOUT}" "" docker "$@"; }
dk_long() { bounded "${COMPOSE_UP_TIMEOUT}" "" docker "$@"; }
gt() { bounded "${GIT_TIMEOUT}" "$1 in ${REPO}" git -C "${REPO}" "$@"; }

# A service's names and paths: NAME_to VAR SVC sets VAR (no subshell), NAME SVC prints it.
project_name_to() {
  local -n _pn_out="$1"
  _pn_out="${NODE}_$2"
}
service_dir_to() {
  local -n _sd_out="$1"
  _sd_out="${REPO}/hosts/${NODE}/$2"
}
service_env_to() {
  local -n _se_out="$1"
  _se_out="${CONFIG_DIR}/$2/.env"
}
service_override_to() {
  local -n _so_out="$1"
  _so_out="${CONFIG_DIR}/$2/docker-compose.override.yml"
}
project_name() { printf '%s_%s' "${NODE}" "$1"; }
service_dir() {
  local d
  service_dir_to d "$1"
  printf '%s' "${d}"
}
service_env() {
  local e
  service_env_to e "$1"
  printf '%s' "${e}"
}
service_override() {
  local o
  service_override_to o "$1"
  printf '%s' "${o}"
}

# Sets COMPOSE_ARGS for the service: -p <node>_<svc> -f compose [-f override] [--env-file .env].
COMPOSE_ARGS=()
compose_args() {
  local svc="$1"
  local project
  local dir
  local env
  local override
  project_name_to project "${svc}"
  service_dir_to dir "${svc}"
  service_env_to env "${svc}"
  service_override_to override "${svc}"
  COMPOSE_ARGS=(-p "${project}" -f "${dir}/docker-compose.yml")
  [[ -f "${override}" ]] && COMPOSE_ARGS+=(-f "${override}")
  [[ -f "${env}" ]] && COMPOSE_ARGS+=(--env-file "${env}")
  # A rollback starts the known-good digests (lib/images.sh).
  if ((PIN_IMAGES)); then
    local pin
    pin_file_to pin "${svc}"
    [[ -f "${pin}" ]] && COMPOSE_ARGS+=(-f "${pin}")
  fi
  return 0
}

# Compose v2 is required: v1 ignores v2 flags (`up --wait`, `ps --format json`) and exits 0.
# Sets DOCKER_DETAIL; returns 1 with DOCKER_ERROR when docker or compose v2 is unusable.
DOCKER_DETAIL=""
DOCKER_ERROR=""
# Checked once per run: a run of several stages (up, resume, rollback) asks docker only once.
DOCKER_CHECKED=0

# The compose version is cached in <state>/docker-versions, keyed by what `docker compose` runs:
# the docker binary on PATH and every compose plugin docker may pick (and docker's config.json,
# which may name more plugin folders), by path, device:inode, mtime and size (one `stat`). A
# `compose version` costs ~100 ms of CPU (docker, then the plugin twice); the engine itself is
# still asked every run (`docker version`: it must answer). The file is a cache, not state: an
# unreadable or foreign one is rewritten.
# shellcheck disable=SC2034 # sets COMPOSE_KEY, read by docker_check
compose_key_to() {
  local -n _ck_out="$1"
  _ck_out=""
  local docker
  hash docker 2>/dev/null || return 1
  docker="${BASH_CMDS[docker]:-}"
  [[ -n "${docker}" ]] || return 1
  local conf="${DOCKER_CONFIG:-${HOME:-/nonexistent}/.docker}"
  local -a files=("${docker}")
  local f
  for f in "${conf}/config.json" "${conf}/cli-plugins/docker-compose" \
    /usr/local/lib/docker/cli-plugins/docker-compose /usr/local/libexec/docker/cli-plugins/docker-compose \
    /usr/lib/docker/cli-plugins/docker-compose /usr/libexec/docker/cli-plugins/docker-compose; do
    [[ -e "${f}" ]] && files+=("${f}")
  done
  _ck_out="$(stat -L -c '%n %d:%i %Y %s' -- "${files[@]}" 2>/dev/null)" || return 1
  _ck_out="${_ck_out//$'\n'/ | }"
}

# compose_cached_to VAR KEY: the cached compose version for KEY ("" when none).
compose_cached_to() {
  local -n _cc_out="$1"
  _cc_out=""
  local text
  state_read_to text "${STATE_DIR}/docker-versions"
  [[ "${text}" == "key ${2}"$'\n'"compose "* ]] || return 0
  local v="${text#*$'\n'compose }"
  [[ "${v}" =~ ^[0-9]+\.[0-9][0-9A-Za-z.+-]*$ ]] && _cc_out="${v}"
  return 0
}

# shellcheck disable=SC2034 # sets globals that deploy.sh and the other libs read
docker_check() {
  ((DOCKER_CHECKED)) && return 0
  local server
  local rc=0
  server="$(dk version --format '{{.Server.Version}}' 2>&1)" || rc=$?
  if ((rc != 0)); then
    DOCKER_ERROR="docker does not answer: $(printf '%s' "${server}" | tail -n 1)"
    return 1
  fi
  local key=""
  local cached=""
  compose_key_to key || key=""
  [[ -z "${key}" ]] || compose_cached_to cached "${key}"
  if [[ -n "${cached}" ]]; then
    DOCKER_DETAIL="engine ${server}, compose ${cached}"
    DOCKER_CHECKED=1
    return 0
  fi
  # The engine answers: a failing `compose version` is "missing" only when the plugin is not there
  # (docker says "'compose' is not a docker command"); anything else is retried once, then its
  # own text is the error.
  local compose
  local try
  for try in 1 2; do
    rc=0
    compose="$(dk compose version --short 2>&1)" || rc=$?
    ((rc == 0)) && break
    if timed_out "${rc}"; then
      DOCKER_ERROR="$(printf '%s' "${compose}" | tail -n 1)"
      return 1
    fi
    if [[ "${compose}" == *"is not a docker command"* || "${compose}" == *"unknown command"* ]]; then
      DOCKER_ERROR="docker compose v2 is missing (the v1 docker-compose is not supported: it ignores v2 flags)"
      return 1
    fi
    ((try == 1)) && log_warn "docker compose version failed (exit ${rc}): $(printf '%s' "${compose}" | tail -n 1); trying again"
  done
  if ((rc != 0)); then
    DOCKER_ERROR="docker compose version failed (exit ${rc}) twice: $(printf '%s' "${compose}" | tail -n 1)"
    return 1
  fi
  compose="$(printf '%s' "${compose}" | tail -n 1)"
  compose="${compose#v}"
  if [[ ! "${compose%%.*}" =~ ^[0-9]+$ ]] || ((${compose%%.*} < 2)); then
    DOCKER_ERROR="docker compose ${compose} is not v2"
    return 1
  fi
  DOCKER_DETAIL="engine ${server}, compose ${compose}"
  DOCKER_CHECKED=1
  [[ -z "${key}" || -z "${STATE_DIR:-}" ]] || cache_write "${STATE_DIR}/docker-versions" 'key %s\ncompose %s\n' "${key}" "${compose}"
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
# (the file read in this shell, not a grep per key)
missing_secret_keys() {
  local svc="$1"
  local env
  service_env_to env "${svc}"
  local -a lines=()
  [[ ! -r "${env}" ]] || mapfile -t lines <"${env}" 2>/dev/null || lines=()
  local key
  local line
  local found
  local missing=""
  for key in ${MANIFEST_SECRETS["${svc}"]:-}; do
    found=0
    for line in "${lines[@]}"; do
      if [[ "${line}" =~ ^[[:space:]]*(export[[:space:]]+)?${key}[[:space:]]*=[[:space:]]*[^[:space:]] ]]; then
        found=1
        break
      fi
    done
    ((found)) || missing+="${missing:+ }${key}"
  done
  printf '%s' "${missing}"
}

# Validates the service's compose files; on failure sets COMPOSE_ERROR (redacted stderr) and
# returns the call's exit (124: docker did not answer).
COMPOSE_ERROR=""
compose_validate() {
  local svc="$1"
  compose_args "${svc}"
  local err
  local rc=0
  err="$(dk compose "${COMPOSE_ARGS[@]}" config --quiet 2>&1 >/dev/null)" || rc=$?
  ((rc == 0)) && return 0
  COMPOSE_ERROR="$(redact "${err}")"
  return "${rc}"
}

# service_inputs_to VAR SVC: the hash lines of what the service's configuration is made of besides
# the compose config itself: its .env, its override and every file under hosts/<node>/<svc>/.
service_inputs_to() {
  local -n _inputs_out="$1"
  local svc="$2"
  local env
  local override
  local dir
  service_env_to env "${svc}"
  service_override_to override "${svc}"
  service_dir_to dir "${svc}"
  _inputs_out="$({
    [[ -f "${env}" ]] && printf 'env %s\n' "$(sha256sum <"${env}")"
    [[ -f "${override}" ]] && printf 'override %s\n' "$(sha256sum <"${override}")"
    cd -- "${dir}" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
  })"
}

# The resolved-config hash of each service this run computed, and what it was computed from
# (compose arguments and service_inputs_to): a run of several stages (up, resume) runs
# `docker compose config` once per service, and again only when an input changed in between.
# CONFIG_IMAGES[svc]: the images that config names (what `compose config --images` prints, one
# per line), read from the same output; unset when its shape was not plain enough to be sure.
declare -A CONFIG_HASH=()
declare -A CONFIG_FROM=()
declare -A CONFIG_IMAGES=()
# CONFIG_SUM[svc]: the deployed-configuration hash service_hash_to last gave, from the config hash
# and inputs in CONFIG_SUM_FROM[svc].
declare -A CONFIG_SUM=()
declare -A CONFIG_SUM_FROM=()

# config_images_to VAR TEXT: the images of the services of a `docker compose config` output
# (compose's own normalized YAML: `name:`, then `services:` with each service at two spaces and
# its keys at four), one per line, a service without `image:` as compose names its build
# (<project>-<service>); returns 1 when a value is quoted or shaped in a way this does not read.
config_images_to() {
  local -n _ci_out="$1"
  _ci_out=""
  local project=""
  local in_services=0
  local svc=""
  local image=""
  local line
  local v
  while IFS= read -r line; do
    if [[ "${line}" =~ ^\ \ (\"[A-Za-z0-9._-]+\"|[A-Za-z0-9._-]+):$ ]] && ((in_services)); then
      config_image_flush
      svc="${BASH_REMATCH[1]//\"/}"
    elif [[ "${line}" != " "* ]]; then
      config_image_flush
      in_services=0
      [[ "${line}" == "name: "* ]] && project="${line#name: }" && project="${project//\"/}"
      [[ "${line}" == "services:" ]] && in_services=1
    elif ((!in_services)); then
      continue
    elif [[ "${line}" == "    image: "* ]]; then
      v="${line#    image: }"
      if [[ "${v}" =~ ^\"([^\"\\]*)\"$ ]]; then
        v="${BASH_REMATCH[1]}"
      elif [[ "${v}" =~ ^\'(.*)\'$ ]]; then
        v="${BASH_REMATCH[1]//\'\'/\'}"
      elif [[ ! "${v}" =~ ^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$ ]]; then
        return 1
      fi
      image="${v}"
    elif [[ "${line}" =~ ^\ \ [^\ ] ]]; then
      return 1
    fi
  done <<<"${2:-}"
  config_image_flush
  [[ -n "${project}" ]] || return 1
  _ci_out="${_ci_out%$'\n'}"
}
# (config_images_to's: the service read so far, with compose's name for a build without image)
config_image_flush() {
  [[ -n "${svc}" ]] || return 0
  [[ -n "${image}" ]] || image="${project}-${svc}"
  _ci_out+="${image}"$'\n'
  svc=""
  image=""
}

# service_hash_to VAR SVC: the service's deployed-configuration hash: resolved compose config +
# .env + override + every file under hosts/<node>/<svc>/. Returns non-zero (COMPOSE_ERROR set; 124
# when docker did not answer) when compose rejects it. The resolved config holds secrets: it goes
# to sha256sum through a pipe, never to a file or the log.
# shellcheck disable=SC2034 # sets globals that deploy.sh and the other libs read
service_hash_to() {
  local -n _hash_out="$1"
  local svc="$2"
  _hash_out=""
  compose_args "${svc}"
  local inputs
  service_inputs_to inputs "${svc}"
  local from="${COMPOSE_ARGS[*]}"$'\n'"${inputs}"
  local cfg="${CONFIG_HASH["${svc}"]:-}"
  if [[ -z "${cfg}" || "${CONFIG_FROM["${svc}"]:-}" != "${from}" ]]; then
    cfg=""
    local out
    local rc=0
    # In a subshell: the resolved text (it holds secrets) lives only in that process's memory,
    # goes to sha256sum through a pipe, and only its hash and image names come out, marked by \037
    # (unmarked lines are compose's stderr).
    out="$(
      {
        text="$(dk compose "${COMPOSE_ARGS[@]}" config 2>&3 && printf x)" || {
          printf '\n\037rc %s\n' "$?"
          exit 0
        }
        text="${text%x}"
        printf '\n\037sum '
        printf '%s' "${text}" | sha256sum
        if config_images_to imgs "${text}"; then
          printf '\037images\n'
          [[ -z "${imgs}" ]] || printf '\037image %s\n' "${imgs//$'\n'/$'\n\037image '}"
        fi
        printf '\037rc 0\n'
      } 3>&1
    )" || rc=$?
    local line
    local err=""
    local st=""
    local images=""
    local have_images=0
    while IFS= read -r line; do
      case "${line}" in
        $'\037rc '*) st="${line#$'\037rc '}" ;;
        $'\037sum '*" -") cfg="${line#$'\037sum '}" && cfg="${cfg%% *}" ;;
        $'\037images') have_images=1 ;;
        $'\037image '*) images+="${line#$'\037image '}"$'\n' ;;
        *) err+="${line}"$'\n' ;;
      esac
    done <<<"${out}"
    err="${err#$'\n'}"
    err="${err%$'\n'}"
    err="${err%$'\n'}"
    if ((rc != 0)) || [[ "${st}" != 0 || ! "${cfg}" =~ ^[0-9a-f]{64}$ ]]; then
      COMPOSE_ERROR="$(redact "${err}")"
      unset 'CONFIG_HASH[$svc]' 'CONFIG_FROM[$svc]' 'CONFIG_IMAGES[$svc]'
      rc="${st:-1}"
      [[ "${rc}" =~ ^[0-9]+$ ]] || rc=1
      ((rc != 0)) || rc=1
      return "${rc}"
    fi
    CONFIG_HASH["${svc}"]="${cfg}"
    CONFIG_FROM["${svc}"]="${from}"
    if ((have_images)); then
      CONFIG_IMAGES["${svc}"]="${images%$'\n'}"
    else
      unset 'CONFIG_IMAGES[$svc]'
    fi
  fi
  # The same config and inputs as this run's last hash of the service: the same hash, no fork.
  local key="${cfg}"$'\n'"${inputs}"
  if [[ "${CONFIG_SUM_FROM["${svc}"]:-}" == "${key}" ]]; then
    _hash_out="${CONFIG_SUM["${svc}"]}"
    return 0
  fi
  local files
  files="$(printf 'config %s\n%s\n' "${cfg}" "${inputs}" | sha256sum)"
  _hash_out="${files%% *}"
  CONFIG_SUM["${svc}"]="${_hash_out}"
  CONFIG_SUM_FROM["${svc}"]="${key}"
}

# Prints the service's deployed-configuration hash (service_hash_to).
service_hash() {
  local hash
  service_hash_to hash "$1" || return
  printf '%s' "${hash}"
}

# health_of_to VAR STATUS: a container's health from `docker ps` Status text (healthy,
# unhealthy, starting, none), into VAR without a subshell (status is a hot path).
health_of_to() {
  local -n _health_out="$1"
  case "$2" in
    *"(healthy)"*) _health_out=healthy ;;
    *"(unhealthy)"*) _health_out=unhealthy ;;
    *"(health: starting)"*) _health_out=starting ;;
    *) _health_out=none ;;
  esac
}

# Containers of a project: lines "name<TAB>state<TAB>health" (health: healthy, unhealthy,
# starting, none), from one `docker ps` call. Returns the call's exit (124: no answer).
project_containers() {
  local project="$1"
  local out
  local rc=0
  out="$(dk ps -a --filter "label=com.docker.compose.project=${project}" --format '{{.Names}}	{{.State}}	{{.Status}}' 2>&1)" || rc=$?
  if ((rc != 0)); then
    printf '%s\n' "${out}" | tail -n 1 >&2
    return "${rc}"
  fi
  local name
  local state
  local st
  local health
  while IFS=$'\t' read -r name state st; do
    [[ -n "${name}" ]] || continue
    health_of_to health "${st}"
    printf '%s\t%s\t%s\n' "${name}" "${state}" "${health}"
  done <<<"${out}"
}

# The run's one listing of the compose containers on the engine (every project: the leftover
# clean needs the names of all), shared by deploy's look at what runs, its leftover clean and
# drift record, verify's look at health and its record of the images: NODE_PS, lines
# "project US full id US compose config hash US name US state US status" (US the unit separator
# \037, not a tab: read with IFS=$'\037', an empty field stays a field), taken at NODE_PS_AT
# (epoch seconds with microseconds). Valid (NODE_PS_OK=1) until node_ps_forget, which whoever
# changes containers or needs a new look calls, in the run's own shell (docker calls run in $(...)
# subshells, where a flag set would be lost): deploy's look at what runs and its drift record
# after compose (stages.sh running_projects_read, drift_record), the leftover clean after a rename
# or removal, each verify round after the first. node_ps_to takes a new one only then.
NODE_PS=""
NODE_PS_AT=""
NODE_PS_OK=0
NODE_PS_ERROR=""
# node_ps_to VAR: NODE_PS into VAR (a `docker ps` only when it is not valid). Returns the call's
# exit (124: no answer) with its last line in NODE_PS_ERROR.
# shellcheck disable=SC2034 # sets globals that stages.sh, drift.sh, images.sh and verify.sh read
node_ps_to() {
  local -n _ps_out="$1"
  _ps_out=""
  NODE_PS_ERROR=""
  if ((!NODE_PS_OK)); then
    # (names of their own: VAR may be any caller's variable)
    local _ps_at="${EPOCHREALTIME/,/.}"
    local _ps_raw
    local _ps_rc=0
    _ps_raw="$(dk ps -a --no-trunc --filter label=com.docker.compose.project --format '{{.Label "com.docker.compose.project"}}	{{.ID}}	{{.Label "com.docker.compose.config-hash"}}	{{.Names}}	{{.State}}	{{.Status}}' 2>&1)" || _ps_rc=$?
    if ((_ps_rc != 0)); then
      NODE_PS_ERROR="$(printf '%s' "${_ps_raw}" | tail -n 1)"
      return "${_ps_rc}"
    fi
    NODE_PS="${_ps_raw//$'\t'/$'\037'}"
    NODE_PS_AT="${_ps_at}"
    NODE_PS_OK=1
  fi
  _ps_out="${NODE_PS}"
  return 0
}
node_ps_forget() { NODE_PS_OK=0; }

# node_containers_to VAR: every container of this node's compose projects (label
# com.docker.compose.project=<node>_*), from the run's listing (node_ps_to), into VAR as lines
# "project<TAB>name<TAB>state<TAB>health". Returns the call's exit (124: no answer) with the
# error's last line in NODE_CONTAINERS_ERROR.
NODE_CONTAINERS_ERROR=""
# shellcheck disable=SC2034 # sets NODE_CONTAINERS_ERROR, read by lib/verify.sh
node_containers_to() {
  local -n _list_out="$1"
  _list_out=""
  NODE_CONTAINERS_ERROR=""
  local out
  local rc=0
  node_ps_to out || rc=$?
  if ((rc != 0)); then
    NODE_CONTAINERS_ERROR="${NODE_PS_ERROR}"
    return "${rc}"
  fi
  local project
  local _id
  local _hash
  local name
  local state
  local st
  local health
  while IFS=$'\037' read -r project _id _hash name state st; do
    [[ -n "${name}" && "${project}" == "${NODE}_"* ]] || continue
    health_of_to health "${st}"
    _list_out+="${project}	${name}	${state}	${health}"$'\n'
  done <<<"${out}"
  return 0
}

# container_event_wait SINCE SECS [PROJECT]: waits up to SECS seconds for a container of this
# node's compose projects (of PROJECT when given) to change: a health status, a start, a death.
# `docker events --since SINCE` replays what happened since SINCE (the time before the caller last
# looked), so no change is missed between a look and the wait, and waiting costs no CPU (no
# polling); events of other nodes' projects sharing the engine are read and passed over. Returns 0
# on a change or at the deadline, 1 when docker events ended at once (the caller then naps).
container_event_wait() {
  local since="$1"
  local secs="$2"
  local want="${3:-}"
  local label="com.docker.compose.project${want:+=${want}}"
  local fd
  local pid
  local line
  local rc=0
  local now="${EPOCHREALTIME/,/.}"
  local until=$((${now%.*} * 1000 + 10#${now#*.} / 1000 + secs * 1000))
  local left
  exec {fd}< <(exec timeout --foreground -k 1 "${secs}" docker events --since "${since}" \
    --filter type=container --filter event=health_status --filter event=start --filter event=die \
    --filter "label=${label}" --format '{{index .Actor.Attributes "com.docker.compose.project"}}' \
    9>&- 2>/dev/null)
  pid=$!
  while :; do
    now="${EPOCHREALTIME/,/.}"
    left=$((until - ${now%.*} * 1000 - 10#${now#*.} / 1000))
    if ((left <= 0)); then
      rc=142
      break
    fi
    rc=0
    IFS= read -r -t "$((left / 1000)).$(((left % 1000) / 100))$(((left % 100) / 10))$((left % 10))" -u "${fd}" line || rc=$?
    ((rc == 0)) || break
    if [[ -n "${want}" || "${line}" == "${NODE}_"* ]]; then
      break
    fi
  done
  kill "${pid}" 2>/dev/null || true
  exec {fd}<&-
  # read: 0 a line, >128 the deadline, 1 end of input (docker events ended without a line)
  ((rc != 1))
}

# What a killed run leaves behind, cleaned by the next run that holds the lock.
#
# Temp files in the state folder: .tmp.* (atomic writes), .git-out.* (fetch output) and
# .compose-err.* (left by older versions).
# One cleaner: lib/state.sh's state_clean_temps (it keeps the temp file of a live process).
temp_files_clean() { state_clean_temps; }

# Compose recreates a container by creating `<old-id12>_<name>`, stopping and removing the old
# one, then renaming the new one to <name>. A kill in between leaves the temp-named container,
# and the next `compose up` fails with "Conflict. The container name ... is already in use" after
# it has stopped the old one. So, before compose runs, the temp-named containers of this node's
# projects (label com.docker.compose.project=<node>_<svc>) are cleaned: one that never started is
# removed (the old container, if still there, keeps serving until compose replaces it); one that
# runs is renamed to <name> when that name is free, else removed (the one named <name> serves).
# Sets LEFTOVERS_DONE (what was cleaned); returns non-zero with LEFTOVERS_ERROR set on failure.
# The containers come from the listing stage_deploy has just taken (LISTED=1, LISTED_CONTAINERS:
# lines "id<TAB>name<TAB>state<TAB>project", from running_projects_read), used once, or else from
# the run's listing (node_ps_to).
LEFTOVERS_DONE=""
LEFTOVERS_ERROR=""
LISTED=0
LISTED_CONTAINERS=""
# shellcheck disable=SC2034 # sets globals that stages.sh reads
compose_leftovers_clean() {
  LEFTOVERS_DONE=""
  LEFTOVERS_ERROR=""
  local out=""
  local rc=0
  if ((LISTED)); then
    out="${LISTED_CONTAINERS}"
    LISTED=0
  else
    local ps
    node_ps_to ps || rc=$?
    if ((rc != 0)); then
      LEFTOVERS_ERROR="${NODE_PS_ERROR}"
      return "${rc}"
    fi
    local p
    local cid
    local _h
    local n
    local st
    local _s
    while IFS=$'\037' read -r p cid _h n st _s; do
      [[ -n "${cid}" ]] && out+="${cid}	${n}	${st}	${p}"$'\n'
    done <<<"${ps}"
  fi
  local -A names=()
  local id
  local name
  local state
  local project
  while IFS=$'\t' read -r id name state project; do
    [[ -n "${name}" ]] && names["${name}"]=1
  done <<<"${out}"
  local real
  local err
  while IFS=$'\t' read -r id name state project; do
    [[ "${project}" == "${NODE}_"* && "${name}" =~ ^[0-9a-f]{12}_(.+)$ ]] || continue
    real="${BASH_REMATCH[1]}"
    rc=0
    if [[ "${state}" == running && -z "${names["${real}"]:-}" ]]; then
      err="$(dk rename "${id}" "${real}" 2>&1)" || rc=$?
      names["${real}"]=1
      LEFTOVERS_DONE+="${LEFTOVERS_DONE:+, }renamed ${name} (running) to ${real}"
    else
      err="$(dk rm -f "${id}" 2>&1)" || rc=$?
      LEFTOVERS_DONE+="${LEFTOVERS_DONE:+, }removed ${name} (${state})"
    fi
    node_ps_forget
    if ((rc != 0)); then
      LEFTOVERS_ERROR="cleaning the leftover container ${name} failed: $(printf '%s' "${err}" | tail -n 1)"
      return "${rc}"
    fi
  done <<<"${out}"
  return 0
}
