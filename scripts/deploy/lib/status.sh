#!/usr/bin/env bash
# `deploy.sh status`: one `status` record (docs/protocol.md). Read-only and fast: it reads the
# state files, asks git for HEAD and makes ONE `docker ps` call; it never runs compose.

# Aggregates the containers of one project into SVC_STATE / SVC_HEALTH / SVC_CONTAINERS (JSON).
SVC_STATE=""
SVC_HEALTH=""
SVC_CONTAINERS=""
service_summary() {
  local rows="$1"
  local total=0
  local running=0
  local unhealthy=0
  local starting=0
  local healthy=0
  local json=""
  local name
  local state
  local health
  while IFS=$'\t' read -r name state health; do
    [[ -n "${name}" ]] || continue
    total=$((total + 1))
    [[ "${state}" == running ]] && running=$((running + 1))
    case "${health}" in
      unhealthy) unhealthy=$((unhealthy + 1)) ;;
      starting) starting=$((starting + 1)) ;;
      healthy) healthy=$((healthy + 1)) ;;
    esac
    json+="${json:+,}$(json_obj name "${name}" state "${state}" health "${health}")"
  done <<<"${rows}"
  if ((total == 0)); then
    SVC_STATE=missing
  elif ((running == total)); then
    SVC_STATE=running
  elif ((running == 0)); then
    SVC_STATE=stopped
  else
    SVC_STATE=partial
  fi
  if ((unhealthy > 0)); then
    SVC_HEALTH=unhealthy
  elif ((starting > 0)); then
    SVC_HEALTH=starting
  elif ((healthy > 0)); then
    SVC_HEALTH=healthy
  else
    SVC_HEALTH=none
  fi
  SVC_CONTAINERS="[${json}]"
}

stage_status_record() {
  local bootstrapped=false
  local repo_commit=""
  if [[ -d "${REPO}/.git" && -f "${MANIFEST_FILE}" ]]; then
    bootstrapped=true
    repo_commit="$(git -C "${REPO}" rev-parse --verify --quiet HEAD 2>/dev/null || true)"
  fi
  local cs
  cs="$(state_get current_stage)"
  local stage
  stage="$(kv_get "${cs}" stage)"
  local stage_status
  stage_status="$(kv_get "${cs}" status)"
  local lock_json
  lock_json="$(lock_holder_json)"
  if [[ "${stage_status}" == running && "${lock_json}" == null ]]; then
    stage_status=interrupted
  fi
  local -a services=()
  local -A seen=()
  local svc
  if [[ "${bootstrapped}" == true ]] && manifest_load "${MANIFEST_FILE}"; then
    for svc in "${MANIFEST_SERVICES[@]}"; do
      services+=("${svc}")
      seen["${svc}"]=1
    done
  fi
  local _rest
  while IFS=$'\t' read -r svc _rest; do
    if [[ -n "${svc}" && -z "${seen["${svc}"]:-}" ]]; then
      services+=("${svc}")
      seen["${svc}"]=1
    fi
  done <<<"$(state_get services.tsv)"
  local docker_state=ok
  local ps=""
  if ((${#services[@]} > 0)); then
    ps="$(docker ps -a --filter label=com.docker.compose.project \
      --format '{{.Label "com.docker.compose.project"}}	{{.Names}}	{{.State}}	{{.Status}}' 2>/dev/null)" || docker_state=unavailable
  fi
  local -A rows=()
  local project
  local name
  local state
  local st
  while IFS=$'\t' read -r project name state st; do
    [[ "${project}" == "${NODE}_"* ]] || continue
    rows["${project}"]+="${name}	${state}	$(health_of "${st}")"$'\n'
  done <<<"${ps}"
  local sj=""
  for svc in "${services[@]}"; do
    project="$(project_name "${svc}")"
    service_summary "${rows["${project}"]:-}"
    sj+="${sj:+,}$(json_obj name "${svc}" project "${project}" state "${SVC_STATE}" health "${SVC_HEALTH}" containers:j "${SVC_CONTAINERS}")"
  done
  local last
  last="$(state_get last_run)"
  emit status node "${NODE}" bootstrapped:j "${bootstrapped}" repo_commit "${repo_commit}" \
    stage "${stage}" stage_status "${stage_status}" run "$(kv_get "${cs}" run)" \
    run_stage "$(kv_get "${cs}" run_stage)" error "$(kv_get "${cs}" error)" \
    target "$(kv_get "${cs}" target)" deployed "$(state_get deployed)" \
    known_good "$(state_get known_good)" lock:j "${lock_json}" docker "${docker_state}" \
    log "$(kv_get "${last}" log)" services:j "[${sj}]"
}
