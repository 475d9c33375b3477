#!/usr/bin/env bash
# `deploy.sh status`: one `status` record (docs/protocol.md). Read-only and fast: it reads the
# state files, HEAD of the checkout and makes ONE `docker ps` call (plus one flock probe); it never
# runs compose and avoids subshells (SATURN asks every node for it, often). The docker call is
# bounded by HOMELAB_STATUS_TIMEOUT seconds (3): a hung docker makes `docker` "unavailable" with
# `docker_error` "docker does not answer (no reply within 3 s)".
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: repo_head_to service_json_to stage_status_record status_drift_to
#   sets: STATUS_TIMEOUT
#   reads: DEPLOY_SH MANIFEST_FILE MANIFEST_SERVICES NODE PROTOCOL_PREFIX REPO STATE_CHECK_ERROR
STATUS_TIMEOUT=3
num_env_to STATUS_TIMEOUT HOMELAB_STATUS_TIMEOUT 3 1 86400

# The checkout's HEAD commit into VAR: read from .git without forking git when it can be.
repo_head_to() {
  local -n _head_out="$1"
  _head_out=""
  local git_dir="${REPO}/.git"
  local line=""
  [[ -r "${git_dir}/HEAD" ]] && IFS= read -r line <"${git_dir}/HEAD"
  if [[ "${line}" =~ ^[0-9a-f]{40}$ ]]; then
    _head_out="${line}"
    return 0
  fi
  if [[ "${line}" == "ref: "* && -r "${git_dir}/${line#ref: }" ]]; then
    IFS= read -r _head_out <"${git_dir}/${line#ref: }"
    [[ "${_head_out}" =~ ^[0-9a-f]{40}$ ]] && return 0
  fi
  _head_out="$(timeout -k 1 "${STATUS_TIMEOUT}" git -C "${REPO}" rev-parse --verify --quiet HEAD 2>/dev/null 9>&- || true)"
}

# service_json_to VAR NAME PROJECT ROWS [IMAGES]: one service of the record from its containers'
# rows ("name<TAB>state<TAB>health" lines) and the JSON array of its known-good images.
service_json_to() {
  local -n _svc_out="$1"
  local rows="$4"
  local total=0
  local running=0
  local unhealthy=0
  local starting=0
  local healthy=0
  local json=""
  local c
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
    json_obj_to c name "${name}" state "${state}" health "${health}"
    json+="${json:+,}${c}"
  done <<<"${rows}"
  local svc_state=partial
  if ((total == 0)); then
    svc_state=missing
  elif ((running == total)); then
    svc_state=running
  elif ((running == 0)); then
    svc_state=stopped
  fi
  local svc_health=none
  if ((unhealthy > 0)); then
    svc_health=unhealthy
  elif ((starting > 0)); then
    svc_health=starting
  elif ((healthy > 0)); then
    svc_health=healthy
  fi
  json_obj_to _svc_out name "$2" project "$3" state "${svc_state}" health "${svc_health}" containers:j "[${json}]" \
    images:j "[${5:-}]"
}

stage_status_record() {
  local bootstrapped=false
  local repo_commit=""
  if [[ -d "${REPO}/.git" && -f "${MANIFEST_FILE}" ]]; then
    bootstrapped=true
    repo_head_to repo_commit
  fi
  local text
  local -A cs=()
  # A state file deploy.sh did not write is said (state_error), not read as if it were sound.
  local state_error=""
  state_check || state_error="${STATE_CHECK_ERROR}"
  state_get_to text current_stage
  kv_load cs "${text}"
  local stage_status="${cs[status]:-}"
  local lock_json
  lock_holder_json_to lock_json
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
  state_get_to text services.tsv
  while IFS=$'\t' read -r svc _rest; do
    if [[ -n "${svc}" && -z "${seen["${svc}"]:-}" ]]; then
      services+=("${svc}")
      seen["${svc}"]=1
    fi
  done <<<"${text}"
  local docker_state=ok
  local docker_error=""
  local ps=""
  local rc=0
  if ((${#services[@]} > 0)); then
    ps="$(timeout -k 1 "${STATUS_TIMEOUT}" docker ps -a --filter label=com.docker.compose.project \
      --format '{{.Label "com.docker.compose.project"}}	{{.Names}}	{{.State}}	{{.Status}}	{{.ID}}	{{.Label "com.docker.compose.config-hash"}}' 2>&1 9>&-)" || rc=$?
    if ((rc != 0)); then
      docker_state=unavailable
      if ((rc == 124 || rc == 137)); then
        docker_error="docker does not answer (no reply within ${STATUS_TIMEOUT} s)"
      else
        docker_error="docker ps failed (exit ${rc}): ${ps##*$'\n'}"
      fi
      ps=""
    fi
  fi
  local -A rows=()
  local project
  local name
  local state
  local st
  local health
  local cid
  local chash
  # Drift (lib/drift.sh): the containers' ids and compose config hashes, by project.
  local -A drift_rows=()
  while IFS=$'\t' read -r project name state st cid chash; do
    [[ "${project}" == "${NODE}_"* ]] || continue
    health_of_to health "${st}"
    rows["${project}"]+="${name}	${state}	${health}"$'\n'
    drift_rows["${project}"]+="${cid}	${chash}	${name}"$'\n'
  done <<<"${ps}"
  # The images verify recorded with the known-good commit (lib/images.sh), per service.
  local -A images_json=()
  local kg_images
  state_get_to kg_images known_good
  if [[ "${kg_images}" =~ ^[0-9a-f]{40}$ ]]; then
    state_get_to text "images/${kg_images}.tsv"
    local csvc
    local iref
    local idigest
    local _iid
    local icreated
    local ij
    while IFS=$'\x1f' read -r svc csvc iref idigest _iid icreated; do
      [[ -n "${svc}" ]] || continue
      json_obj_to ij service "${csvc}" image "${iref}" digest "${idigest}" created "${icreated}"
      images_json["${svc}"]+="${images_json["${svc}"]:+,}${ij}"
    done <<<"${text//$'\t'/$'\x1f'}"
  fi
  local sj=""
  local one
  for svc in "${services[@]}"; do
    project="${NODE}_${svc}"
    service_json_to one "${svc}" "${project}" "${rows["${project}"]:-}" "${images_json["${svc}"]:-}"
    sj+="${sj:+,}${one}"
  done
  local deployed
  local known_good
  local -A last=()
  state_get_to deployed deployed
  state_get_to known_good known_good
  state_get_to text last_run
  kv_load last "${text}"
  local -a extra=()
  [[ -n "${docker_error}" ]] && extra+=(docker_error "${docker_error}")
  # Magic rollback (lib/watchdog.sh): the confirmation the node waits for, or how it ended.
  local confirm_json
  confirm_json_to confirm_json
  extra+=(confirm:j "${confirm_json}")
  local drift=""
  # No drift while a run holds the lock (it is changing the containers) or before a deploy.
  [[ "${bootstrapped}" == true && "${lock_json}" == null && -n "${deployed}" ]] &&
    status_drift_to drift "${docker_state}" services drift_rows
  # The node scripts' version (scripts/VERSION beside the running deploy.sh; null before it
  # existed or when it is not a number) and the protocol's, read without a fork.
  local scripts_version=null
  local version_line=""
  # read fails on a file without a final newline (or an empty one): the line it read still counts.
  if [[ -r "${DEPLOY_SH%/*}/../VERSION" ]]; then
    IFS= read -r version_line <"${DEPLOY_SH%/*}/../VERSION" || true
  fi
  [[ "${version_line}" =~ ^[0-9]{1,6}$ ]] && scripts_version="$((10#${version_line}))"
  extra+=(scripts_version:j "${scripts_version}" protocol:j "${PROTOCOL_PREFIX#@homelab/}")
  emit status node "${NODE}" bootstrapped:j "${bootstrapped}" repo_commit "${repo_commit}" \
    stage "${cs[stage]:-}" stage_status "${stage_status}" run "${cs[run]:-}" \
    run_stage "${cs[run_stage]:-}" error "${cs[error]:-}" target "${cs[target]:-}" \
    deployed "${deployed}" known_good "${known_good}" lock:j "${lock_json}" docker "${docker_state}" \
    "${extra[@]}" log "${last[log]:-}" state_error "${state_error}" services:j "[${sj}]" drift:j "[${drift}]"
}

# status_drift_to VAR DOCKER SERVICES_ARRAY ROWS_ASSOC: the status record's drift items
# (lib/drift.sh), comma-joined: per deployed service, the projects of no deployed service, then
# the checkout. Docker's items only when docker answered.
status_drift_to() {
  local -n _sd_out="$1"
  local -n _sd_services="$3"
  local -n _sd_rows="$4"
  _sd_out=""
  local one
  local svc
  local project
  local tsv
  if [[ "$2" == ok ]]; then
    drift_recorded_load
    local -A deployed_svc=()
    state_get_to tsv services.tsv
    local _h
    while IFS=$'\t' read -r svc _h; do
      [[ -n "${svc}" && -n "${_h}" ]] && deployed_svc["${svc}"]=1
    done <<<"${tsv}"
    for svc in "${_sd_services[@]}"; do
      [[ -n "${deployed_svc["${svc}"]:-}" ]] || continue
      project="${NODE}_${svc}"
      drift_service_to one "${svc}" "${project}" "${_sd_rows["${project}"]:-}"
      [[ -z "${one}" ]] || _sd_out+="${_sd_out:+,}${one}"
    done
    for project in "${!_sd_rows[@]}"; do
      [[ -n "${deployed_svc["${project#"${NODE}_"}"]:-}" ]] && continue
      drift_extra_to one "${project}"
      _sd_out+="${_sd_out:+,}${one}"
    done
  fi
  drift_checkout_to one
  [[ -z "${one}" ]] || _sd_out+="${_sd_out:+,}${one}"
  return 0
}
