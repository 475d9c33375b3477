#!/usr/bin/env bash
# The stages prepare, deploy, rollback and resume (verify is in lib/verify.sh). Each returns 0 or
# non-zero with STAGE_ERROR set; steps report through step_emit/step_fail (run.sh).
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: checkout_clean_step checkout_error docker_step head_commit load_manifest_step
#     run_diagnose run_resume run_rollback run_up running_projects_read say_dry secrets_step
#     services_read services_write stage_deploy stage_prepare stage_rollback_checkout
#   sets: DEPLOYED_HASH DOCKER_OK DRIFTED_PROJECTS LISTED LISTED_CONTAINERS PIN_IMAGES REF
#     RUNNING_ERROR RUNNING_PROJECTS STAGE_ERROR TARGET
#   reads: COMPOSE_ARGS COMPOSE_ERROR CONFIG_DIR CONFINED_ERROR DOCKER_DETAIL DOCKER_ERROR
#     LEFTOVERS_DONE LEFTOVERS_ERROR LOG_DIR MANIFEST_ERROR MANIFEST_FILE MANIFEST_OVERRIDE
#     MANIFEST_SECRETS MANIFEST_SERVICES NODE NODE_NAME REPO ROOT STATE_DIR STATE_TMP

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

# The checkout must be a commit as committed: no change to a tracked file, no untracked file under
# hosts/<node>/ or scripts/ (what the node deploys and runs). Fails the step STEP with the list and
# the fix; returns 1. A git that does not answer fails it too.
checkout_clean_step() {
  local step="$1"
  local out
  local rc=0
  out="$(gt --no-optional-locks status --porcelain=v1 --untracked-files=all -- . 2>&1)" || rc=$?
  if ((rc != 0)); then
    step_fail "${step}" "" "git status in ${REPO} failed: $(printf '%s' "${out}" | tail -n 1)"
    return 1
  fi
  local -a dirty=()
  local line
  local path
  while IFS= read -r line; do
    [[ -n "${line}" ]] || continue
    path="${line:3}"
    if [[ "${line:0:2}" == "??" ]]; then
      [[ "${path}" == "hosts/${NODE}/"* || "${path}" == scripts/* ]] || continue
    fi
    dirty+=("${line}")
  done <<<"${out}"
  ((${#dirty[@]} == 0)) && return 0
  local list
  list="$(printf '%s, ' "${dirty[@]:0:10}")"
  list="${list%, }"
  ((${#dirty[@]} > 10)) && list+=", and $((${#dirty[@]} - 10)) more"
  step_fail "${step}" "" "the checkout ${REPO} has local changes (${list}): a node deploys only commits as committed. See \`git -C ${REPO} status\`; undo them with \`git -C ${REPO} checkout -- <file>\` and \`git -C ${REPO} clean -fd hosts/${NODE}/ scripts/\` (make the change on SATURN and commit it instead)"
  return 1
}

# checkout_error WHAT OUTPUT: why a `git checkout` failed, with the fix.
# shellcheck disable=SC2016 # the backquotes are the text of the message
checkout_error() {
  local what="$1"
  local out="$2"
  if [[ "${out}" =~ Unable\ to\ create\ \'([^\']*index\.lock)\' ]]; then
    printf '%s failed: a stale git lock file %s is in the way (a git process crashed or still runs there): when no git runs on the node, remove it with `rm %s` and run again' \
      "${what}" "${BASH_REMATCH[1]}" "${BASH_REMATCH[1]}"
  elif [[ "${out}" == *"did not answer within"* ]]; then
    printf '%s failed: %s' "${what}" "$(printf '%s' "${out}" | tail -n 1)"
  elif [[ "${out}" == *"would be overwritten"* ]]; then
    printf '%s failed: local changes in %s would be overwritten: see `git -C %s status`' "${what}" "${REPO}" "${REPO}"
  else
    printf '%s failed: %s' "${what}" "$(printf '%s' "${out}" | tail -n 1)"
  fi
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
# A dry run goes on without a Docker engine: it says what a real run would stop on.
docker_step() {
  DOCKER_OK=0
  if ! docker_check; then
    if ((DRY_RUN)); then
      log_warn "dry-run: ${DOCKER_ERROR}; a real run stops here"
      step_emit docker skip "" "dry-run: ${DOCKER_ERROR}"
      return 0
    fi
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
  ((DRY_RUN)) || temp_files_clean
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
      local outf
      outf="$(mktemp "${STATE_TMP:-/tmp}/.git-out.XXXXXX")"
      local frc=0
      local have=0
      # A commit is immutable: one already in the checkout's objects needs no fetch.
      gt cat-file -e "${REF}^{commit}" 2>/dev/null && have=1
      ((have)) || gt fetch --quiet origin >"${outf}" 2>&1 || frc=$?
      out="$(<"${outf}")"
      rm -f -- "${outf}"
      if ((have)); then
        step_emit fetch skip "" "${REF} already present"
      elif ((frc == 0)); then
        step_emit fetch ok "" "origin" "$(($(now_ms) - t0))"
      elif gt cat-file -e "${REF}^{commit}" 2>/dev/null; then
        log_output "${out}"
        log_warn "git fetch failed ($(printf '%s' "${out}" | tail -n 1)); ${REF} is already present locally"
        step_emit fetch skip "" "fetch failed; commit already present"
      else
        log_output "${out}"
        step_fail fetch "" "git fetch origin failed and ${REF} is not present locally: $(printf '%s' "${out}" | tail -n 1)"
        return 1
      fi
      checkout_clean_step checkout || return 1
      local sha
      if ! sha="$(gt rev-parse --verify --quiet "${REF}^{commit}")"; then
        step_fail checkout "" "commit ${REF} does not exist in origin"
        return 1
      fi
      local crc=0
      out="$(gt checkout --quiet --detach "${sha}" 2>&1)" || crc=$?
      if ((crc != 0)); then
        log_output "${out}"
        step_fail checkout "" "$(checkout_error "git checkout ${sha}" "${out}")"
        return 1
      fi
      step_emit checkout ok "" "${sha}"
    fi
  else
    step_emit fetch skip "" "no --ref given: staying at $(head_commit)"
    ((DRY_RUN)) || checkout_clean_step checkout || return 1
  fi
  if ((!DRY_RUN)); then
    local was="${TARGET}"
    TARGET="$(head_commit)"
    state_set target "${TARGET}"
    # with_stage has written `prepare running`; again only when it named another target
    [[ "${was}" == "${TARGET}" ]] || cs_write prepare running
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
  secrets_load "${ROOT}"
  secrets_step || rc=1
  if ((!DOCKER_OK)); then
    ((DRY_RUN)) || return 1
    step_emit compose-config skip "" "dry-run: no Docker engine, compose files not checked"
    return "${rc}"
  fi
  for svc in "${MANIFEST_SERVICES[@]}"; do
    if ! confined_file "$(service_dir "${svc}")" "$(service_dir "${svc}")/docker-compose.yml" ||
      ! confined_file "${CONFIG_DIR}/${svc}" "$(service_override "${svc}")"; then
      step_fail compose-config "${svc}" "${CONFINED_ERROR}"
      rc=1
    elif [[ ! -f "$(service_dir "${svc}")/docker-compose.yml" ]]; then
      step_fail compose-config "${svc}" "hosts/${NODE}/${svc}/docker-compose.yml is missing"
      rc=1
    else
      local vrc=0
      # The hash validates the files (compose config) and is kept for a deploy in this run.
      local _prepared_hash
      service_hash_to _prepared_hash "${svc}" || vrc=$?
      if ((vrc == 0)); then
        step_emit compose-config ok "${svc}"
      elif timed_out "${vrc}"; then
        step_fail compose-config "${svc}" "$(printf '%s' "${COMPOSE_ERROR}" | tail -n 1)"
        return 1
      else
        log_output "${COMPOSE_ERROR}"
        step_fail compose-config "${svc}" "docker compose config rejects hosts/${NODE}/${svc}/docker-compose.yml: $(printf '%s' "${COMPOSE_ERROR}" | tail -n 1)"
        rc=1
      fi
    fi
  done
  return "${rc}"
}

# Projects whose containers all run (one docker ps call): RUNNING_PROJECTS[project]=1.
declare -A RUNNING_PROJECTS=()
RUNNING_ERROR=""
running_projects_read() {
  RUNNING_PROJECTS=()
  RUNNING_ERROR=""
  local out
  local rc=0
  LISTED_CONTAINERS=""
  LISTED=0
  out="$(dk ps -a --filter label=com.docker.compose.project --format '{{.Label "com.docker.compose.project"}}	{{.State}}	{{.ID}}	{{.Label "com.docker.compose.config-hash"}}	{{.Names}}' 2>&1)" || rc=$?
  if ((rc != 0)); then
    RUNNING_ERROR="$(printf '%s' "${out}" | tail -n 1)"
    return "${rc}"
  fi
  local -A stopped=()
  local p
  local state
  local cid
  local chash
  local cname
  DRIFTED_PROJECTS=()
  drift_recorded_load
  while IFS=$'\t' read -r p state cid chash cname; do
    [[ -n "${p}" ]] || continue
    # the same listing serves compose_leftovers_clean (one docker ps, not two)
    LISTED_CONTAINERS+="${cid}	${cname}	${state}	${p}"$'\n'
    drift_container_check "${p}" "${cid}" "${chash}"
    if [[ "${state}" == running ]]; then
      RUNNING_PROJECTS["${p}"]=1
    else
      stopped["${p}"]=1
    fi
  done <<<"${out}"
  for p in "${!stopped[@]}"; do
    unset 'RUNNING_PROJECTS[$p]'
  done
  # shellcheck disable=SC2034 # read by compose_leftovers_clean (compose.sh)
  LISTED=1
  return 0
}

stage_deploy() {
  local head
  head="$(head_commit)"
  if [[ -n "${REF}" && "${head}" != "${REF}"* ]]; then
    step_fail checkout "" "the checkout is at ${head}, not ${REF}: run \`deploy.sh prepare --ref ${REF}\` first"
    return 1
  fi
  local was="${TARGET}"
  TARGET="${head}"
  # with_stage has written `deploy running`; again only when the target it named was not the head
  [[ "${was}" == "${head}" ]] || ((DRY_RUN)) || cs_write deploy running
  ((DRY_RUN)) || temp_files_clean
  ((DRY_RUN)) || checkout_clean_step checkout || return 1
  load_manifest_step || return $?
  docker_step || return 1
  secrets_step || return 1
  secrets_load "${ROOT}"
  if ((DOCKER_OK)); then
    if ! running_projects_read; then
      step_fail docker "" "docker ps failed: ${RUNNING_ERROR}"
      return 1
    fi
    if ((!DRY_RUN)); then
      if ! compose_leftovers_clean; then
        step_fail leftovers "" "${LEFTOVERS_ERROR}"
        return 1
      fi
      if [[ -n "${LEFTOVERS_DONE}" ]]; then
        log_info "containers left by an interrupted compose: ${LEFTOVERS_DONE}"
        step_emit leftovers ok "" "${LEFTOVERS_DONE}"
      fi
    fi
  fi
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
    if ((DRY_RUN && !DOCKER_OK)); then
      compose_args "${svc}"
      say_dry docker compose "${COMPOSE_ARGS[@]}" up -d --remove-orphans "(no Docker engine: not compared with what runs)"
      step_emit compose-up skip "${svc}" "dry-run: no Docker engine"
      continue
    fi
    local hrc=0
    service_hash_to hash "${svc}" || hrc=$?
    if timed_out "${hrc}"; then
      step_fail compose-config "${svc}" "$(printf '%s' "${COMPOSE_ERROR}" | tail -n 1)"
      return 1
    elif ((hrc != 0)); then
      log_output "${COMPOSE_ERROR}"
      step_fail compose-config "${svc}" "docker compose config rejects ${svc}: $(printf '%s' "${COMPOSE_ERROR}" | tail -n 1)"
      failed=1
      continue
    fi
    if [[ "${DEPLOYED_HASH["${svc}"]:-}" == "${hash}" && -n "${RUNNING_PROJECTS["${project}"]:-}" && -z "${DRIFTED_PROJECTS["${project}"]:-}" ]] && ! update_wanted "${svc}"; then
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
    elif [[ -n "${DRIFTED_PROJECTS["${project}"]:-}" ]]; then
      up+=(--force-recreate)
      why="drift: ${DRIFTED_PROJECTS["${project}"]}"
    elif [[ -n "${RUNNING_PROJECTS["${project}"]:-}" ]] && update_wanted "${svc}"; then
      # compose recreates only the containers whose image the pull moved
      why="image update"
    fi
    if ((DRY_RUN)); then
      say_dry docker "${up[@]}" "(${why})"
      step_emit compose-up skip "${svc}" "dry-run: ${why}"
      continue
    fi
    # Pull first (lib/images.sh): a failed pull leaves this service's containers alone.
    if ! images_pull_step "${svc}"; then
      failed=1
      continue
    fi
    step_emit compose-up start "${svc}" "${why}"
    log_info "compose up ${project} (${why})"
    t0="$(now_ms)"
    local urc=0
    out="$(dk_long "${up[@]}" 2>&1)" || urc=$?
    log_output "${out}"
    if ((urc == 0)); then
      services_write "${svc}" "${hash}"
      step_emit compose-up ok "${svc}" "${why}" "$(($(now_ms) - t0))"
    elif timed_out "${urc}"; then
      step_fail compose-up "${svc}" "$(printf '%s' "${out}" | tail -n 1)"
      return 1
    else
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
    local drc=0
    out="$(dk_long compose -p "${project}" down --remove-orphans 2>&1)" || drc=$?
    log_output "${out}"
    if ((drc == 0)); then
      services_write "${svc}" ""
      step_emit compose-down ok "${svc}" "no longer assigned" "$(($(now_ms) - t0))"
    elif timed_out "${drc}"; then
      step_fail compose-down "${svc}" "$(printf '%s' "${out}" | tail -n 1)"
      return 1
    else
      step_fail compose-down "${svc}" "docker compose down ${project} failed: $(redact "$(printf '%s' "${out}" | tail -n 1)")"
      failed=1
    fi
  done
  ((failed == 0)) || return 1
  ((DRY_RUN || !DOCKER_OK)) || drift_record
  ((DRY_RUN)) || state_set deployed "${head}"
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
  temp_files_clean
  state_set target "${kg}"
  checkout_clean_step checkout || return 1
  local out
  local rc=0
  out="$(gt checkout --quiet --detach "${kg}" 2>&1)" || rc=$?
  if ((rc != 0)); then
    log_output "${out}"
    step_fail checkout "" "$(checkout_error "git checkout of known-good ${kg}" "${out}")"
    return 1
  fi
  step_emit checkout ok "" "known-good ${kg}"
  images_pin_write "${kg}" || return 1
  return 0
}

run_rollback() {
  REF=""
  with_stage rollback stage_rollback_checkout
  # A dry run cannot show deploy's plan for a commit it did not check out.
  ((DRY_RUN)) && return 0
  # The known-good digests, whatever the tags point to now (lib/images.sh), for this run only.
  # shellcheck disable=SC2034 # read by compose_args (lib/compose.sh)
  PIN_IMAGES=1
  with_stage deploy stage_deploy
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
      prepare) with_stage prepare stage_prepare ;;
      deploy) with_stage deploy stage_deploy ;;
      verify) with_stage verify stage_verify ;;
      rollback) run_rollback ;;
    esac
  done
  return 0
}

# up --ref SHA: prepare, deploy and verify of SHA in one run (SATURN's fleet walk). Each stage
# writes current_stage as it goes, so a killed `up` is finished by `resume` like any stage. A dry
# run stops after deploy's plan (verify has nothing to check in a dry run).
run_up() {
  if [[ -z "${REF}" ]]; then
    STAGE_ERROR="up needs --ref SHA: the commit to prepare, deploy and verify"
    log_error "${STAGE_ERROR}"
    return 1
  fi
  with_stage prepare stage_prepare
  with_stage deploy stage_deploy
  ((DRY_RUN)) && return 0
  with_stage verify stage_verify
}

# diagnose: the manifest (when readable) then lib/diagnose.sh's stage_diagnose (read-only).
run_diagnose() {
  if ! manifest_load "${MANIFEST_FILE}"; then
    log_warn "${MANIFEST_ERROR}: diagnosing without the node's services"
  fi
  stage_diagnose
}
