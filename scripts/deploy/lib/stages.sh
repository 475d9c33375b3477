#!/usr/bin/env bash
# The stages: prepare, deploy, verify, rollback and resume. Each returns 0 or non-zero with
# STAGE_ERROR set; steps report through step_emit/step_fail (run.sh).

readonly VERIFY_TIMEOUT="${HOMELAB_VERIFY_TIMEOUT:-120}"

# Per-service deployed hashes: <state>/services.tsv, lines "service<TAB>hash<TAB>commit".
declare -A DEPLOYED_HASH=()
services_read() {
  DEPLOYED_HASH=()
  local svc
  local hash
  local _commit
  local text
  text="$(state_get services.tsv)"
  while IFS=$'\t' read -r svc hash _commit; do
    [[ -n "${svc}" ]] && DEPLOYED_HASH["${svc}"]="${hash}"
  done <<<"${text}"
  return 0
}

# services_write SVC HASH: records (or with an empty HASH removes) one service, atomically.
services_write() {
  local want="$1"
  local new_hash="$2"
  local text
  text="$(state_get services.tsv)"
  local out=""
  local svc
  local hash
  local commit
  while IFS=$'\t' read -r svc hash commit; do
    [[ -n "${svc}" && "${svc}" != "${want}" ]] && out+="${svc}	${hash}	${commit}"$'\n'
  done <<<"${text}"
  [[ -n "${new_hash}" ]] && out+="${want}	${new_hash}	${TARGET}"$'\n'
  atomic_write "${STATE_DIR}/services.tsv" "${out}"
}

say_dry() {
  log_info "dry-run: would run: $*"
}

head_commit() {
  gt rev-parse --verify --quiet HEAD 2>/dev/null || true
}

# Loads the node's manifest; returns 4 (node not set up) when it is missing or unusable.
load_manifest_step() {
  if [[ ! -d "${REPO}/hosts/${NODE}" ]]; then
    step_fail manifest "" "hosts/${NODE}/ does not exist in the checkout at $(head_commit): this node has nothing assigned"
    return 4
  fi
  if ! manifest_load "${MANIFEST_FILE}"; then
    step_fail manifest "" "${MANIFEST_ERROR} (run \`homelab manifest\` on SATURN and commit)"
    return 4
  fi
  if [[ "${NODE_NAME}" != "${NODE}" ]]; then
    step_fail manifest "" "${MANIFEST_FILE} names node '${NODE_NAME}', not '${NODE}'"
    return 4
  fi
  step_emit manifest ok "" "${#MANIFEST_SERVICES[@]} services: ${MANIFEST_SERVICES[*]}"
  return 0
}

DOCKER_OK=0
docker_step() {
  DOCKER_OK=0
  if ! docker_check; then
    step_fail docker "" "${DOCKER_ERROR}"
    return 1
  fi
  DOCKER_OK=1
  step_emit docker ok "" "${DOCKER_DETAIL}"
}

# Every declared secret key present in its .env, every required override present.
secrets_step() {
  local failed=0
  local svc
  local missing
  for svc in "${MANIFEST_SERVICES[@]}"; do
    if [[ -n "${MANIFEST_SECRETS["${svc}"]:-}" ]]; then
      missing="$(missing_secret_keys "${svc}")"
      if [[ -n "${missing}" ]]; then
        step_fail secrets "${svc}" "$(service_env "${svc}"): missing ${missing}"
        failed=1
      else
        step_emit secrets ok "${svc}" "$(service_env "${svc}"): ${MANIFEST_SECRETS["${svc}"]}"
      fi
    fi
    if [[ "${MANIFEST_OVERRIDE["${svc}"]:-}" == required ]]; then
      if [[ -f "$(service_override "${svc}")" ]]; then
        step_emit override ok "${svc}" "$(service_override "${svc}")"
      else
        step_fail override "${svc}" "$(service_override "${svc}"): required override file is missing"
        failed=1
      fi
    fi
  done
  return "${failed}"
}

stage_prepare() {
  local rc=0
  if [[ -n "${REF}" ]]; then
    if ((DRY_RUN)); then
      say_dry git -C "${REPO}" fetch origin
      say_dry git -C "${REPO}" checkout --detach "${REF}"
      step_emit fetch skip "" "dry-run"
      step_emit checkout skip "" "dry-run: would check out ${REF}"
    else
      local t0
      t0="$(now_ms)"
      local out
      if out="$(gt fetch --quiet origin 2>&1)"; then
        step_emit fetch ok "" "origin" "$(($(now_ms) - t0))"
      elif gt cat-file -e "${REF}^{commit}" 2>/dev/null; then
        log_output "${out}"
        log_warn "git fetch failed; ${REF} is already present locally"
        step_emit fetch skip "" "fetch failed; commit already present"
      else
        log_output "${out}"
        step_fail fetch "" "git fetch origin failed and ${REF} is not present locally"
        return 1
      fi
      local sha
      if ! sha="$(gt rev-parse --verify --quiet "${REF}^{commit}")"; then
        step_fail checkout "" "commit ${REF} does not exist in origin"
        return 1
      fi
      if ! out="$(gt checkout --quiet --detach "${sha}" 2>&1)"; then
        log_output "${out}"
        step_fail checkout "" "git checkout ${sha} failed (local changes in ${REPO}?)"
        return 1
      fi
      step_emit checkout ok "" "${sha}"
    fi
  else
    step_emit fetch skip "" "no --ref given: staying at $(head_commit)"
  fi
  if ((!DRY_RUN)); then
    TARGET="$(head_commit)"
    state_set target "${TARGET}"
    cs_write prepare running
  fi
  if ((DRY_RUN)) && [[ -n "${REF}" && "$(head_commit)" != "${REF}"* ]]; then
    log_info "dry-run: the checks below read the current checkout ($(head_commit)), not ${REF}"
  fi
  load_manifest_step || return $?
  local svc
  local -a dirs=("${STATE_DIR}" "${LOG_DIR}")
  for svc in "${MANIFEST_SERVICES[@]}"; do
    dirs+=("${CONFIG_DIR}/${svc}")
  done
  if ((DRY_RUN)); then
    local d
    for d in "${dirs[@]}"; do
      [[ -d "${d}" ]] || say_dry mkdir -p "${d}"
    done
    step_emit layout skip "" "dry-run"
  else
    mkdir -p -- "${dirs[@]}"
    chmod 700 -- "${CONFIG_DIR}" 2>/dev/null || true
    step_emit layout ok "" "${ROOT}"
  fi
  docker_step || rc=1
  secrets_collect
  secrets_step || rc=1
  ((DOCKER_OK)) || return 1
  for svc in "${MANIFEST_SERVICES[@]}"; do
    if [[ ! -f "$(service_dir "${svc}")/docker-compose.yml" ]]; then
      step_fail compose-config "${svc}" "hosts/${NODE}/${svc}/docker-compose.yml is missing"
      rc=1
    elif compose_validate "${svc}"; then
      step_emit compose-config ok "${svc}"
    else
      log_output "${COMPOSE_ERROR}"
      step_fail compose-config "${svc}" "docker compose config rejects hosts/${NODE}/${svc}/docker-compose.yml: $(printf '%s' "${COMPOSE_ERROR}" | tail -n 1)"
      rc=1
    fi
  done
  return "${rc}"
}

# Projects whose containers all run (one docker ps call): RUNNING_PROJECTS[project]=1.
declare -A RUNNING_PROJECTS=()
running_projects_read() {
  RUNNING_PROJECTS=()
  local out
  out="$(dk ps -a --filter label=com.docker.compose.project --format '{{.Label "com.docker.compose.project"}}	{{.State}}')" || return 1
  local -A stopped=()
  local p
  local state
  while IFS=$'\t' read -r p state; do
    [[ -n "${p}" ]] || continue
    if [[ "${state}" == running ]]; then
      RUNNING_PROJECTS["${p}"]=1
    else
      stopped["${p}"]=1
    fi
  done <<<"${out}"
  for p in "${!stopped[@]}"; do
    unset 'RUNNING_PROJECTS[$p]'
  done
  return 0
}

stage_deploy() {
  local head
  head="$(head_commit)"
  if [[ -n "${REF}" && "${head}" != "${REF}"* ]]; then
    step_fail checkout "" "the checkout is at ${head}, not ${REF}: run \`deploy.sh prepare --ref ${REF}\` first"
    return 1
  fi
  TARGET="${head}"
  ((DRY_RUN)) || cs_write deploy running
  load_manifest_step || return $?
  docker_step || return 1
  secrets_step || return 1
  secrets_collect
  running_projects_read || true
  services_read
  local failed=0
  local svc
  local hash
  local project
  local t0
  local out
  local -a up
  for svc in "${MANIFEST_SERVICES[@]}"; do
    project="$(project_name "${svc}")"
    if ! hash="$(service_hash "${svc}")"; then
      log_output "${COMPOSE_ERROR}"
      step_fail compose-config "${svc}" "docker compose config rejects ${svc}: $(printf '%s' "${COMPOSE_ERROR}" | tail -n 1)"
      failed=1
      continue
    fi
    if [[ "${DEPLOYED_HASH["${svc}"]:-}" == "${hash}" && -n "${RUNNING_PROJECTS["${project}"]:-}" ]]; then
      step_emit unchanged skip "${svc}" "configuration unchanged"
      log_info "${project}: unchanged"
      continue
    fi
    compose_args "${svc}"
    up=(compose "${COMPOSE_ARGS[@]}" up -d --remove-orphans)
    local why="not running"
    if [[ -n "${DEPLOYED_HASH["${svc}"]:-}" && "${DEPLOYED_HASH["${svc}"]}" != "${hash}" ]]; then
      up+=(--force-recreate)
      why="configuration changed"
    elif [[ -z "${DEPLOYED_HASH["${svc}"]:-}" ]]; then
      up+=(--force-recreate)
      why="first deploy"
    fi
    if ((DRY_RUN)); then
      say_dry docker "${up[@]}" "(${why})"
      step_emit compose-up skip "${svc}" "dry-run: ${why}"
      continue
    fi
    step_emit compose-up start "${svc}" "${why}"
    log_info "compose up ${project} (${why})"
    t0="$(now_ms)"
    if out="$(dk "${up[@]}" 2>&1)"; then
      log_output "${out}"
      services_write "${svc}" "${hash}"
      step_emit compose-up ok "${svc}" "${why}" "$(($(now_ms) - t0))"
    else
      log_output "${out}"
      step_fail compose-up "${svc}" "docker compose up ${project} failed: $(redact "$(printf '%s' "${out}" | tail -n 1)")"
      failed=1
    fi
  done
  for svc in "${!DEPLOYED_HASH[@]}"; do
    manifest_has_service "${svc}" && continue
    project="$(project_name "${svc}")"
    if ((DRY_RUN)); then
      say_dry docker compose -p "${project}" down --remove-orphans "(no longer assigned)"
      step_emit compose-down skip "${svc}" "dry-run: no longer assigned"
      continue
    fi
    step_emit compose-down start "${svc}" "no longer assigned to ${NODE}"
    t0="$(now_ms)"
    if out="$(dk compose -p "${project}" down --remove-orphans 2>&1)"; then
      log_output "${out}"
      services_write "${svc}" ""
      step_emit compose-down ok "${svc}" "no longer assigned" "$(($(now_ms) - t0))"
    else
      log_output "${out}"
      step_fail compose-down "${svc}" "docker compose down ${project} failed"
      failed=1
    fi
  done
  ((failed == 0)) || return 1
  ((DRY_RUN)) || state_set deployed "${head}"
  return 0
}

# Sleeps in the background so a signal is handled at once.
nap() {
  sleep "$1" &
  wait "$!" || true
}

# HTTP status code of URL ("000" when no answer), with curl, wget or bash /dev/tcp.
http_status() {
  local url="$1"
  local code
  if command -v curl >/dev/null 2>&1; then
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${url}" 9>&- 2>/dev/null)" || true
    printf '%s' "${code:-000}"
    return 0
  fi
  if command -v wget >/dev/null 2>&1; then
    code="$(wget -S -q -O /dev/null -T 5 -t 1 "${url}" 2>&1 9>&- | awk '/^ *HTTP\//{c=$2} END{print c}')" || true
    printf '%s' "${code:-000}"
    return 0
  fi
  [[ "${url}" =~ ^http://([^/:]+)(:([0-9]+))?(/.*)?$ ]] || {
    printf '000'
    return 0
  }
  local host="${BASH_REMATCH[1]}"
  local port="${BASH_REMATCH[3]:-80}"
  local path="${BASH_REMATCH[4]:-/}"
  # shellcheck disable=SC2016 # $1.. expand in the inner bash
  code="$(timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$3" "$1" >&3 && head -n 1 <&3' _ "${host}" "${port}" "${path}" 2>/dev/null | awk '{print $2}')" || true
  printf '%s' "${code:-000}"
}

tcp_open() {
  # shellcheck disable=SC2016 # $1 $2 expand in the inner bash
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# verify_containers SVC: waits for the service's containers; sets VERIFY_DETAIL, returns
# 0 healthy, 1 failed, 2 still waiting.
VERIFY_DETAIL=""
verify_containers_once() {
  local project
  project="$(project_name "$1")"
  local list
  if ! list="$(project_containers "${project}")"; then
    VERIFY_DETAIL="docker ps failed"
    return 2
  fi
  if [[ -z "${list}" ]]; then
    VERIFY_DETAIL="no containers for project ${project}: run deploy"
    return 1
  fi
  local name
  local state
  local health
  local waiting=""
  local bad=""
  local good=""
  while IFS=$'\t' read -r name state health; do
    case "${state}:${health}" in
      running:healthy | running:none) good+="${good:+, }${name}" ;;
      running:starting | restarting:* | created:*) waiting+="${waiting:+, }${name} ${state}/${health}" ;;
      *) bad+="${bad:+, }${name} ${state}/${health}" ;;
    esac
  done <<<"${list}"
  if [[ -n "${bad}" ]]; then
    VERIFY_DETAIL="${bad}"
    return 1
  fi
  if [[ -n "${waiting}" ]]; then
    VERIFY_DETAIL="${waiting}"
    return 2
  fi
  VERIFY_DETAIL="${good}"
  return 0
}

stage_verify() {
  local head
  head="$(head_commit)"
  if [[ -n "${REF}" && "${head}" != "${REF}"* ]]; then
    step_fail checkout "" "the checkout is at ${head}, not ${REF}: run prepare and deploy of ${REF} first"
    return 1
  fi
  TARGET="${head}"
  ((DRY_RUN)) || cs_write verify running
  load_manifest_step || return $?
  local deployed
  deployed="$(state_get deployed)"
  if [[ "${deployed}" != "${head}" ]]; then
    step_fail deployed "" "the checkout ${head} is not deployed (deployed: ${deployed:-nothing}): run deploy first"
    return 1
  fi
  local -A result=()
  local -A detail=()
  local svc
  local deadline=$(($(now_s) + VERIFY_TIMEOUT))
  local pending=${#MANIFEST_SERVICES[@]}
  local rc
  while ((pending > 0)); do
    pending=0
    for svc in "${MANIFEST_SERVICES[@]}"; do
      [[ -z "${result["${svc}"]:-}" ]] || continue
      rc=0
      verify_containers_once "${svc}" || rc=$?
      case "${rc}" in
        0) result["${svc}"]=ok ;;
        1) result["${svc}"]=fail ;;
        *)
          if (($(now_s) >= deadline)); then
            result["${svc}"]=fail
            VERIFY_DETAIL="timed out after ${VERIFY_TIMEOUT}s: ${VERIFY_DETAIL}"
          else
            pending=$((pending + 1))
          fi
          ;;
      esac
      detail["${svc}"]="${VERIFY_DETAIL}"
    done
    ((pending == 0)) || nap 0.5
  done
  local failed=0
  local check
  local kind
  local a
  local b
  local code
  local try
  for svc in "${MANIFEST_SERVICES[@]}"; do
    local project
    project="$(project_name "${svc}")"
    if [[ "${result["${svc}"]}" == ok ]]; then
      emit check service "${svc}" check health target "${project}" status ok detail "${detail["${svc}"]}"
    else
      emit check service "${svc}" check health target "${project}" status fail detail "${detail["${svc}"]}"
      step_fail verify-service "${svc}" "${svc}: containers not running and healthy: ${detail["${svc}"]}"
      failed=1
      continue
    fi
    local svc_ok=1
    for check in "${MANIFEST_CHECKS[@]}"; do
      IFS=$'\t' read -r a kind b code <<<"${check}"
      [[ "${a}" == "${svc}" ]] || continue
      a="${b}"
      b="${code}"
      local ok=0
      local got=""
      for try in 1 2 3; do
        if [[ "${kind}" == http ]]; then
          got="$(http_status "${a}")"
          [[ "${got}" == "${b}" ]] && ok=1
        else
          tcp_open "${a}" "${b}" && ok=1
        fi
        ((ok)) && break
        ((try < 3)) && nap 1
      done
      local target="${a}"
      [[ "${kind}" == tcp ]] && target="${a}:${b}"
      if ((ok)); then
        emit check service "${svc}" check "${kind}" target "${target}" status ok detail "${got:-open}"
      else
        local why="connection refused"
        [[ "${kind}" == http ]] && why="expected ${b}, got ${got}"
        emit check service "${svc}" check "${kind}" target "${target}" status fail detail "${why}"
        step_fail verify-service "${svc}" "${svc}: ${kind} check ${target} failed: ${why}"
        svc_ok=0
        failed=1
      fi
    done
    ((svc_ok)) && step_emit verify-service ok "${svc}" "${detail["${svc}"]}"
  done
  ((failed == 0)) || return 1
  state_set known_good "${head}"
  step_emit known-good ok "" "${head}"
  return 0
}

stage_rollback_checkout() {
  local kg
  kg="$(state_get known_good)"
  if [[ -z "${kg}" ]]; then
    step_fail known-good "" "no known-good commit on this node: nothing to roll back to"
    return 1
  fi
  TARGET="${kg}"
  if ((DRY_RUN)); then
    say_dry git -C "${REPO}" checkout --detach "${kg}"
    step_emit checkout skip "" "dry-run: would check out known-good ${kg}, then deploy and verify it"
    return 0
  fi
  cs_write rollback running
  state_set target "${kg}"
  local out
  if ! out="$(gt checkout --quiet --detach "${kg}" 2>&1)"; then
    log_output "${out}"
    step_fail checkout "" "git checkout of known-good ${kg} failed"
    return 1
  fi
  step_emit checkout ok "" "known-good ${kg}"
  return 0
}

run_rollback() {
  REF=""
  with_stage rollback stage_rollback_checkout || return $?
  # A dry run cannot show deploy's plan for a commit it did not check out.
  ((DRY_RUN)) && return 0
  with_stage deploy stage_deploy || return $?
  with_stage verify stage_verify
}

run_resume() {
  local cs
  cs="$(state_get current_stage)"
  local stage
  stage="$(kv_get "${cs}" stage)"
  local status
  status="$(kv_get "${cs}" status)"
  local target
  target="$(kv_get "${cs}" target)"
  if [[ -z "${stage}" ]]; then
    STAGE_ERROR="nothing to resume: no stage has run on this node (run prepare --ref SHA)"
    log_error "${STAGE_ERROR}"
    return 1
  fi
  if [[ -n "${REF}" && "${target}" != "${REF}"* ]]; then
    STAGE_ERROR="resume continues towards ${target}, not ${REF}: run prepare --ref ${REF}"
    log_error "${STAGE_ERROR}"
    return 1
  fi
  # We hold the lock, so a `running` state was left by a killed run.
  [[ "${status}" == running ]] && status=interrupted
  local -a todo=()
  case "${stage}:${status}" in
    prepare:ok) todo=(deploy verify) ;;
    prepare:*) todo=(prepare deploy verify) ;;
    deploy:ok) todo=(verify) ;;
    # A failed verify re-runs deploy first (a no-op for unchanged services) so a fixed .env applies.
    deploy:* | verify:failed | verify:interrupted) todo=(deploy verify) ;;
    verify:ok)
      log_info "nothing to resume: verify of ${target} succeeded"
      return 0
      ;;
    rollback:ok) todo=(deploy verify) ;;
    rollback:*) todo=(rollback) ;;
    *) todo=(prepare deploy verify) ;;
  esac
  log_info "resuming ${stage} (${status}) towards ${target}: ${todo[*]}"
  REF="${target}"
  TARGET="${target}"
  local s
  for s in "${todo[@]}"; do
    case "${s}" in
      prepare) with_stage prepare stage_prepare || return $? ;;
      deploy) with_stage deploy stage_deploy || return $? ;;
      verify) with_stage verify stage_verify || return $? ;;
      rollback) run_rollback || return $? ;;
    esac
  done
  return 0
}

# diagnose: the manifest (when readable) then lib/diagnose.sh's stage_diagnose (read-only).
run_diagnose() {
  if ! declare -F stage_diagnose >/dev/null; then
    STAGE_ERROR="${DEPLOY_LIB}/diagnose.sh is missing: diagnose is not available in this checkout"
    return 1
  fi
  if ! manifest_load "${MANIFEST_FILE}"; then
    log_warn "${MANIFEST_ERROR}: diagnosing without the node's services"
  fi
  stage_diagnose
}
