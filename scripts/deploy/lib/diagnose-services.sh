#!/usr/bin/env bash
# Per-service diagnose checks: secrets, overrides, images, containers (exit codes, restarts, OOM, health), ports.
# Part of lib/diagnose.sh (read by it; uses its DIAG_* globals, diag_finding and diag_docker).
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: diag_check_containers diag_check_images diag_check_override diag_check_ports
#     diag_check_secrets diag_check_service diag_compose_args diag_container_logs diag_last_health
#     diag_pid_in_containers diag_service_ports
#   sets: DIAG_COMPOSE_ARGS DIAG_CONTAINER_IDS DIAG_SERVICE_RUNNING KEY
#   reads: COMPOSE_ARGS CONFINED_ERROR DIAGNOSE_LOG_LINES DIAG_NODE DIAG_REPO DIAG_ROOT
#     MANIFEST_CHECKS MANIFEST_OVERRIDE MANIFEST_SECRETS

# --- per service ------------------------------------------------------------------------------------

DIAG_COMPOSE_ARGS=()

# Sets DIAG_COMPOSE_ARGS to the arguments deploy.sh itself uses (lib/compose.sh); 1 when the service
# has no compose file in the checkout.
diag_compose_args() {
  local service="$1"
  compose_args "${service}"
  DIAG_COMPOSE_ARGS=("${COMPOSE_ARGS[@]}")
  [[ -f "$(service_dir "${service}")/docker-compose.yml" ]]
}

diag_check_secrets() {
  local service="$1"
  local keys="${MANIFEST_SECRETS[${service}]:-}"
  [[ -n "${keys}" ]] || return 0
  local env_file="${DIAG_ROOT}/config/${service}/.env"
  if [[ ! -f "${env_file}" ]]; then
    diag_finding secret.file-missing fail "Secret file ${env_file} is missing (needs ${keys// /, })" \
      "declared keys: ${keys// /, }; file: ${env_file} does not exist" \
      "Create it on the node: install -m 600 /dev/null ${env_file}, then add one KEY=value line for each of: ${keys// /, }" "${service}"
    return 0
  fi
  local -a missing=()
  local -a wanted=()
  local key
  local line
  local found
  read -r -a wanted <<<"${keys}"
  for key in "${wanted[@]}"; do
    found=0
    while IFS= read -r line || [[ -n "${line}" ]]; do
      if [[ "${line}" =~ ^[[:space:]]*(export[[:space:]]+)?${key}[[:space:]]*=(.*)$ ]]; then
        local v="${BASH_REMATCH[2]}"
        v="${v//[[:space:]\"\']/}"
        [[ -n "${v}" ]] && found=1
      fi
    done <"${env_file}"
    ((found)) || missing+=("${key}")
  done
  if ((${#missing[@]} > 0)); then
    diag_finding secret.key-missing fail "${env_file} lacks ${missing[*]}" \
      "declared keys: ${keys// /, }; missing or empty: ${missing[*]}" \
      "Add a KEY=value line for each of ${missing[*]} to ${env_file} on the node (values never go into Git), then deploy.sh resume" "${service}"
  else
    diag_finding secret.present ok "All declared secrets are set (${keys// /, })" "${env_file}: ${keys// /, } set" "" "${service}"
  fi
}

diag_check_override() {
  local service="$1"
  local override="${DIAG_ROOT}/config/${service}/docker-compose.override.yml"
  local required="${MANIFEST_OVERRIDE[${service}]:-}"
  if ! confined_file "${DIAG_ROOT}/config/${service}" "${override}"; then
    diag_finding override.symlink fail "Host-local override of ${service} is not a file of its folder" "${CONFINED_ERROR}" \
      "Replace ${override} by a regular file with the host-specific settings, then deploy.sh resume" "${service}"
  elif [[ -f "${override}" ]]; then
    local text
    # Redacted whole, then cut: a cut first would leave the head of a secret readable.
    text="$(head -c 65536 -- "${override}" 2>/dev/null)" || text=""
    text="$(redact "${text}")"
    ((${#text} > 4000)) && text="${text:0:4000}"$'\n'"… (cut at 4000 characters)"
    diag_finding override.present ok "Host-local override ${override} is included" "${text}" "" "${service}"
  elif [[ "${required}" == required ]]; then
    diag_finding override.missing fail "Required override ${override} is missing" \
      "the manifest marks ${service}'s override as required; ${override} does not exist" \
      "Create ${override} on the node with the host-specific settings (for example device paths), then deploy.sh resume" "${service}"
  fi
}

# Prints `port<TAB>source` for every published port and every declared check port of a service.
diag_service_ports() {
  local service="$1"
  local config="$2"
  local line
  local rec
  local -a f
  while IFS= read -r line; do
    if [[ "${line}" =~ published:\ \"?([0-9]+)\"? ]]; then
      printf '%s\tpublished\n' "${BASH_REMATCH[1]}"
    fi
  done <<<"${config}"
  for rec in "${MANIFEST_CHECKS[@]}"; do
    IFS=$'\t' read -r -a f <<<"${rec}"
    [[ "${f[0]:-}" == "${service}" ]] || continue
    if [[ "${f[1]:-}" == tcp && "${f[3]:-}" =~ ^[0-9]+$ ]]; then
      printf '%s\tcheck tcp %s:%s\n' "${f[3]}" "${f[2]:-}" "${f[3]}"
    elif [[ "${f[1]:-}" == http && "${f[2]:-}" =~ ^https?://[^/:]+:([0-9]+) ]]; then
      printf '%s\tcheck %s\n' "${BASH_REMATCH[1]}" "${f[2]}"
    elif [[ "${f[1]:-}" == http && "${f[2]:-}" =~ ^http:// ]]; then
      printf '80\tcheck %s\n' "${f[2]}"
    fi
  done
}

# True when PID runs inside one of the given containers (its cgroup names the container id).
diag_pid_in_containers() {
  local pid="$1"
  shift
  local cg
  cg="$(cat "/proc/${pid}/cgroup" 2>/dev/null)" || return 1
  local id
  for id in "$@"; do
    [[ -n "${id}" && "${cg}" == *"${id}"* ]] && return 0
  done
  return 1
}

diag_check_ports() {
  local service="$1"
  local config="$2"
  shift 2
  local -a ids=("$@")
  command -v ss >/dev/null 2>&1 || return 0
  local port
  local source
  local -A seen=()
  while IFS=$'\t' read -r port source; do
    [[ -n "${port}" && -z "${seen[${port}]:-}" ]] || continue
    seen["${port}"]=1
    local listeners
    listeners="$(ss -Hltnp "sport = :${port}" 2>/dev/null)" || listeners=""
    [[ -n "${listeners}" ]] || continue
    local -a pids=()
    mapfile -t pids < <(grep -o 'pid=[0-9]*' <<<"${listeners}" | cut -d= -f2 | sort -u)
    local pid
    local foreign=()
    for pid in "${pids[@]}"; do
      diag_pid_in_containers "${pid}" "${ids[@]}" && continue
      # Docker's userland proxy publishes ports of a running service: its own, not a stranger.
      if ((DIAG_SERVICE_RUNNING)) && [[ "$(cat "/proc/${pid}/comm" 2>/dev/null)" == docker-proxy ]]; then
        continue
      fi
      foreign+=("${pid}")
    done
    if ((${#pids[@]} > 0 && ${#foreign[@]} == 0)); then
      continue
    fi
    # Listeners of other users show no process to a non-root user: with the service running, the
    # listener is most likely the service itself, so say nothing rather than guess.
    if ((${#pids[@]} == 0 && DIAG_SERVICE_RUNNING)); then
      continue
    fi
    local who=""
    for pid in "${foreign[@]}"; do
      who+="${who:+, }$(cat "/proc/${pid}/comm" 2>/dev/null || printf '?') (pid ${pid})"
    done
    [[ -z "${who}" ]] && who="another process"
    diag_finding service.port-in-use fail "Port ${port} (${source}) is already in use by ${who}" \
      "ss -ltnp sport = :${port}: $(diag_tail "${listeners}" 3)" \
      "Stop the other listener (kill ${foreign[*]:-<pid>}, or disable its service) or move ${service} to a free port in Git, then deploy.sh resume" "${service}"
  done < <(diag_service_ports "${service}" "${config}")
}

diag_container_logs() {
  local id="$1"
  local out
  out="$(diag_docker logs --tail "${DIAGNOSE_LOG_LINES}" "${id}" 2>&1)" || true
  printf '%s' "${out}"
}

# Last healthcheck entry of a container: `exit <code>: <output>`.
diag_last_health() {
  local id="$1"
  local out
  out="$(diag_docker inspect --format '{{range .State.Health.Log}}@@@exit {{.ExitCode}}: {{.Output}}{{end}}' "${id}" 2>/dev/null)" || out=""
  out="${out##*@@@}"
  printf '%s' "${out}"
}

diag_check_images() {
  local service="$1"
  local images
  images="$(diag_docker compose "${DIAG_COMPOSE_ARGS[@]}" config --images 2>/dev/null)" || return 0
  local image
  while IFS= read -r image; do
    [[ -n "${image}" ]] || continue
    diag_docker image inspect "${image}" >/dev/null 2>&1 && continue
    # Not on the node: can it be pulled? Ask the registry (no pull; the node's docker login).
    local -a mopts=()
    local host
    host="$(image_registry "${image}")"
    [[ "${host}" == 127.* || "${host}" == localhost* ]] && mopts+=(--insecure)
    local err
    if err="$(diag_docker manifest inspect "${mopts[@]}" "${image}" 2>&1 >/dev/null)"; then
      diag_finding service.image-missing fail "Image ${image} is not on the node (the registry has it)" \
        "docker image inspect ${image}: no such image; docker manifest inspect ${image}: found" \
        "Pull it: docker compose -p ${DIAG_NODE}_${service} pull, or run deploy (it pulls what it starts)" "${service}"
    else
      err="$(redact "$(printf '%s' "${err:-no answer}" | tail -n 1)")"
      diag_finding service.image-unpullable fail "Image ${image} is not on the node and cannot be pulled" \
        "docker image inspect ${image}: no such image; docker manifest inspect ${image}: ${err}" \
        "$(pull_fix "${image}" "${err}")" "${service}"
    fi
  done <<<"${images}"
}

diag_check_containers() {
  local service="$1"
  local project="${DIAG_NODE}_${service}"
  local -a ids=()
  local listing
  listing="$(diag_docker ps -a -q --no-trunc --filter "label=com.docker.compose.project=${project}" 2>/dev/null)" || listing=""
  [[ -n "${listing}" ]] && mapfile -t ids <<<"${listing}"
  DIAG_CONTAINER_IDS=("${ids[@]}")
  DIAG_SERVICE_RUNNING=0
  local expected
  expected="$(diag_docker compose "${DIAG_COMPOSE_ARGS[@]}" config --services 2>/dev/null)" || expected=""
  if ((${#ids[@]} == 0)); then
    diag_finding service.missing fail "No containers for ${service} (project ${project})" \
      "docker ps -a --filter label=com.docker.compose.project=${project}: none" \
      "Deploy it: deploy.sh resume (or deploy.sh deploy); if it fails, the compose-up step's log says why" "${service}"
    return 0
  fi
  local sep=$'\x1f'
  local fmt="{{.Name}}${sep}{{index .Config.Labels \"com.docker.compose.service\"}}${sep}{{.State.Status}}${sep}{{.State.ExitCode}}${sep}{{.State.OOMKilled}}${sep}{{.State.Restarting}}${sep}{{.RestartCount}}${sep}{{.Id}}${sep}{{json .State}}"
  local rows
  rows="$(diag_docker inspect --format "${fmt}" "${ids[@]}" 2>/dev/null)" || rows=""
  local name
  local svc
  local status
  local code
  local oom
  local restarting
  local restarts
  local health
  local id
  local problems=0
  local -A present=()
  local state_json
  while IFS="${sep}" read -r name svc status code oom restarting restarts id state_json; do
    [[ -n "${id}" ]] || continue
    # .State.Health is absent without a healthcheck (a template error on some engines): read the JSON.
    health=none
    # (The container's own Status is never one of the three health words.)
    if [[ "${state_json}" =~ \"Status\":\"(healthy|unhealthy|starting)\" ]]; then
      health="${BASH_REMATCH[1]}"
    fi
    name="${name#/}"
    present["${svc}"]=1
    [[ "${status}" == running ]] && DIAG_SERVICE_RUNNING=1
    if [[ "${oom}" == true ]]; then
      problems=$((problems + 1))
      diag_finding service.oom-killed fail "${name} was killed for using too much memory (OOM)" \
        "state ${status}, exit ${code}, OOMKilled true"$'\n'"$(diag_container_logs "${id}")" \
        "Raise the memory limit (mem_limit / deploy.resources.limits.memory) in Git or find the leak; check free memory (memory finding)" "${service}"
    fi
    if [[ "${restarting}" == true ]]; then
      problems=$((problems + 1))
      diag_finding service.restarting fail "${name} keeps restarting (${restarts} restarts, last exit ${code})" \
        "$(diag_container_logs "${id}")" \
        "It crashes on start: read its logs (docker logs ${name}); fix the config or secret it complains about, then deploy.sh resume" "${service}"
    elif [[ "${status}" == exited || "${status}" == dead ]]; then
      problems=$((problems + 1))
      if [[ "${code}" == 0 ]]; then
        diag_finding service.exited warn "${name} exited (code 0)" "$(diag_container_logs "${id}")" \
          "A long-running service should not exit: check its command; start it again with deploy.sh resume" "${service}"
      else
        diag_finding service.exited fail "${name} exited with code ${code}" "$(diag_container_logs "${id}")" \
          "Read its log in the evidence (docker logs ${name}); fix the cause (config, secret, port, volume), then deploy.sh resume" "${service}"
      fi
    elif [[ "${status}" == created ]]; then
      problems=$((problems + 1))
      diag_finding service.not-started fail "${name} was created but never started" "state created" \
        "Start it with deploy.sh resume; docker compose -p ${project} up -d shows why it cannot start" "${service}"
    elif [[ "${health}" == unhealthy ]]; then
      problems=$((problems + 1))
      diag_finding service.unhealthy fail "${name} is unhealthy" \
        "last healthcheck: $(diag_last_health "${id}")"$'\n'"$(diag_container_logs "${id}")" \
        "The healthcheck fails: run it by hand (docker exec ${name} <healthcheck command>), fix the service or its healthcheck in Git, then deploy.sh resume" "${service}"
    elif [[ "${health}" == starting ]]; then
      problems=$((problems + 1))
      diag_finding service.starting warn "${name} is still starting (healthcheck not passed yet)" \
        "last healthcheck: $(diag_last_health "${id}")" "Wait for the start period, then deploy.sh verify" "${service}"
    elif [[ "${status}" == running && "${restarts}" =~ ^[1-9] ]]; then
      diag_finding service.restarts warn "${name} is running but restarted ${restarts} time(s)" \
        "$(diag_container_logs "${id}")" "Look at docker logs ${name} for the crash before the last restart" "${service}"
    fi
  done <<<"${rows}"
  local want
  while IFS= read -r want; do
    [[ -n "${want}" && -z "${present[${want}]:-}" ]] || continue
    problems=$((problems + 1))
    diag_finding service.missing fail "Compose service ${want} of ${service} has no container" \
      "project ${project} has containers for: ${!present[*]}" "Deploy it: deploy.sh resume" "${service}"
  done <<<"${expected}"
  if ((problems == 0)); then
    diag_finding service.running ok "${service}: ${#ids[@]} container(s) running" "project ${project}" "" "${service}"
  fi
}

DIAG_CONTAINER_IDS=()
DIAG_SERVICE_RUNNING=0

diag_check_service() {
  local service="$1"
  diag_check_secrets "${service}"
  diag_check_override "${service}"
  if ! confined_file "${DIAG_REPO}/hosts/${DIAG_NODE}/${service}" "${DIAG_REPO}/hosts/${DIAG_NODE}/${service}/docker-compose.yml"; then
    diag_finding compose.symlink fail "The compose file of ${service} leaves its folder: not read" "${CONFINED_ERROR}" \
      "Commit the compose file itself under hosts/${DIAG_NODE}/${service}/ (not a symlink), then homelab run prepare --node ${DIAG_NODE}" "${service}"
    return 0
  fi
  # (a symlinked override is reported by diag_check_override; Compose must not read it either)
  confined_file "${DIAG_ROOT}/config/${service}" "${DIAG_ROOT}/config/${service}/docker-compose.override.yml" || return 0
  if ! diag_compose_args "${service}"; then
    diag_finding compose.file-missing fail "No compose file in hosts/${DIAG_NODE}/${service}/" \
      "${DIAG_REPO}/hosts/${DIAG_NODE}/${service}/docker-compose.yml does not exist" \
      "Add hosts/${DIAG_NODE}/${service}/docker-compose.yml in Git on SATURN, or remove ${service} from the node in inventory/topology.yaml" "${service}"
    return 0
  fi
  ((DIAG_DOCKER_OK)) || return 0
  local config
  local rc=0
  config="$(diag_docker compose "${DIAG_COMPOSE_ARGS[@]}" config 2>&1)" || rc=$?
  if ((rc != 0)); then
    local why="invalid"
    ((rc == 124 || rc == 137)) && why="not checked: docker compose timed out"
    local hint="Fix the YAML"
    if [[ "${config}" == *"missing a value"* || "${config}" == *"required variable"* ]]; then
      hint="A variable the compose file requires is not set: add it to ${DIAG_ROOT}/config/${service}/.env on the node (see the secret findings); otherwise fix the YAML"
    fi
    diag_finding compose.config-invalid fail "Compose configuration of ${service} is ${why}" "$(diag_tail "${config}" 10)" \
      "${hint} in hosts/${DIAG_NODE}/${service}/ (docker compose -p ${DIAG_NODE}_${service} config shows the error), commit on SATURN, then homelab run prepare --node ${DIAG_NODE}" "${service}"
    config=""
  fi
  diag_check_containers "${service}"
  [[ -n "${config}" ]] && diag_check_images "${service}"
  diag_check_ports "${service}" "${config}" "${DIAG_CONTAINER_IDS[@]}"
}
