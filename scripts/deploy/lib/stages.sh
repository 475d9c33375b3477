#!/usr/bin/env bash
# The stages prepare, deploy, rollback and resume (verify is in lib/verify.sh). Each returns 0 or
# non-zero with STAGE_ERROR set; steps report through step_emit/step_fail (run.sh).
#
# Each stage function is a short list of step calls, read top to bottom; each step says in a line
# what it does. A step that changes the node runs through `act` (lib/act.sh), which in a dry run
# prints the plan instead, so the stages do not ask whether the run is a dry run themselves (one
# test is left, in run_resume, which --dry-run never reaches; test/unit/house-bash-dry-run.test.ts
# counts them).
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: checkout_clean_step checkout_error checkout_ref_step compose_config_step
#     deploy_target_step deployed_step docker_step down_step fetch_step git_checkout_step
#     head_commit known_good_step layout_make layout_step leftovers_step load_manifest_step
#     prepare_checkout_step resume_check resume_todo_to rollback_checkout_step rollback_redeploy
#     run_diagnose run_resume run_rollback run_up running_projects_read running_step secrets_step
#     service_down_step service_up_step services_read services_write stage_deploy stage_prepare
#     stage_rollback_checkout target_step up_reason_to up_step
#   sets: CLEAN_CHECKOUT DEPLOYED_HASH DOCKER_OK DRIFTED_PROJECTS LISTED LISTED_CONTAINERS
#     PIN_IMAGES REF REF_PRESENT RUNNING_ERROR RUNNING_PROJECTS RUN_KIND STAGE_ERROR STEPS_FAILED
#     TARGET
#   reads: COMPOSE_ARGS COMPOSE_ERROR CONFIG_DIR CONFINED_ERROR DOCKER_DETAIL DOCKER_ERROR
#     LEFTOVERS_DONE LEFTOVERS_ERROR LOG_DIR MANIFEST_ERROR MANIFEST_FILE MANIFEST_OVERRIDE
#     MANIFEST_SECRETS MANIFEST_SERVICES NODE NODE_NAME NODE_PS_ERROR REPO ROOT STATE_DIR STATE_TMP

# Per-service deployed hashes: <state>/services.tsv, lines "service<TAB>hash<TAB>commit".
declare -A DEPLOYED_HASH=()
services_read() {
  DEPLOYED_HASH=()
  local svc
  local hash
  local _commit
  local text
  state_get_to text services.tsv
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
  state_get_to text services.tsv
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

head_commit() {
  gt rev-parse --verify --quiet HEAD 2>/dev/null || true
}

# The commit this run's own `git checkout` made out of a tree `git status` had just found clean
# (prepare's, rollback's: git_checkout_step): while HEAD is still it, deploy and verify of the same run do not ask
# `git status` again (checkout_clean_step).
CLEAN_CHECKOUT=""
# The --ref that fetch_step found present as a commit (`git cat-file -e REF^{commit}`).
REF_PRESENT=""

# The checkout must be a commit as committed: no change to a tracked file, no untracked file under
# hosts/<node>/ or scripts/ (what the node deploys and runs). Fails the step STEP with the list and
# the fix; returns 1. A git that does not answer fails it too.
checkout_clean_step() {
  local step="$1"
  local out
  local rc=0
  if [[ -n "${CLEAN_CHECKOUT}" ]]; then
    repo_head_to out
    [[ "${out}" != "${CLEAN_CHECKOUT}" ]] || return 0
    CLEAN_CHECKOUT=""
  fi
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
# The engine answers. Without one a real run stops here and a dry run plans on (act.sh).
docker_step() {
  DOCKER_OK=0
  if docker_check; then
    DOCKER_OK=1
    step_emit docker ok "" "${DOCKER_DETAIL}"
    return 0
  fi
  stop_or_plan docker "${DOCKER_ERROR}"
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

# A step failed and the stage goes on to report the others; the stage fails at its end. A step
# that must stop the stage at once (a timeout) returns non-zero instead: errexit ends the run.
STEPS_FAILED=0

# prepare: the commit checked out, then everything a deploy of it needs checked on the node.
stage_prepare() {
  STEPS_FAILED=0
  act -- temp_files_clean
  prepare_checkout_step
  load_manifest_step || return $?
  layout_step
  docker_step || STEPS_FAILED=1
  secrets_load "${ROOT}"
  secrets_step || STEPS_FAILED=1
  compose_config_step
  return "${STEPS_FAILED}"
}

# The commit to prepare: --ref fetched (unless present) and checked out, or without --ref the
# checkout as it is; clean either way. TARGET (and the state's target) becomes the head.
prepare_checkout_step() {
  if [[ -z "${REF}" ]]; then
    step_emit fetch skip "" "no --ref given: staying at $(head_commit)"
    act -- checkout_clean_step checkout || return 1
  else
    act --skip fetch "" "dry-run" --would "git -C ${REPO} fetch origin" -- fetch_step
    act --skip checkout "" "dry-run: would check out ${REF}" \
      --would "git -C ${REPO} checkout --detach ${REF}" -- checkout_ref_step
  fi
  local head
  repo_head_to head
  local note=""
  [[ -z "${REF}" || "${head}" == "${REF}"* ]] ||
    note="the checks below read the current checkout (${head}), not ${REF}"
  act --note "${note}" -- target_step prepare "${head}"
}

# target_step STAGE HEAD: TARGET is HEAD, in the state too; with_stage has written `STAGE running`
# with the target it had, so current_stage is written again only when that was another commit.
target_step() {
  local was="${TARGET}"
  TARGET="$2"
  state_set target "${TARGET}"
  [[ "${was}" == "${TARGET}" ]] || cs_write "$1" running
}

# REF's objects: fetched from origin, unless the commit is already here (a commit is immutable).
# A failed fetch is only a warning when REF is present anyway.
fetch_step() {
  local t0
  now_ms_to t0
  local out
  local outf
  temp_file_to outf "${STATE_TMP:-/tmp}/.git-out" || outf="$(mktemp "${STATE_TMP:-/tmp}/.git-out.XXXXXX")"
  local frc=0
  local have=0
  gt cat-file -e "${REF}^{commit}" 2>/dev/null && have=1
  ((have)) || gt fetch --quiet origin >"${outf}" 2>&1 || frc=$?
  out="$(<"${outf}")"
  rm -f -- "${outf}"
  local t1
  now_ms_to t1
  if ((have)); then
    REF_PRESENT="${REF}"
    step_emit fetch skip "" "${REF} already present"
  elif ((frc == 0)); then
    step_emit fetch ok "" "origin" "$((t1 - t0))"
  elif gt cat-file -e "${REF}^{commit}" 2>/dev/null; then
    log_output "${out}"
    log_warn "git fetch failed ($(printf '%s' "${out}" | tail -n 1)); ${REF} is already present locally"
    step_emit fetch skip "" "fetch failed; commit already present"
  else
    log_output "${out}"
    step_fail fetch "" "git fetch origin failed and ${REF} is not present locally: $(printf '%s' "${out}" | tail -n 1)"
    return 1
  fi
}

# REF checked out, detached, in a clean checkout.
checkout_ref_step() {
  checkout_clean_step checkout || return 1
  local sha="${REF}"
  # (a full sha that fetch_step found to be a commit here is that commit: git is not asked again)
  if [[ ! "${REF}" =~ ^[0-9a-f]{40}$ || "${REF_PRESENT}" != "${REF}" ]] &&
    ! sha="$(gt rev-parse --verify --quiet "${REF}^{commit}")"; then
    step_fail checkout "" "commit ${REF} does not exist in origin"
    return 1
  fi
  git_checkout_step "${sha}" "git checkout ${sha}" "${sha}"
}

# git_checkout_step SHA WHAT DETAIL: `git checkout --detach SHA`; a failure says WHAT failed and
# the fix (checkout_error), success records DETAIL.
git_checkout_step() {
  local out
  local before
  local rc=0
  repo_head_to before
  out="$(gt checkout --quiet --detach "$1" 2>&1)" || rc=$?
  if ((rc != 0)); then
    log_output "${out}"
    step_fail checkout "" "$(checkout_error "$2" "${out}")"
    return 1
  fi
  # Its callers ran checkout_clean_step just before, so the tree git made is clean, unless the
  # new commit changed a .gitignore: a file ignored until now may be untracked here. Then deploy
  # and verify look again (git status); otherwise they trust this checkout while HEAD is $1.
  CLEAN_CHECKOUT=""
  if [[ "${before}" == "$1" ]] ||
    gt diff --quiet "${before}" "$1" -- .gitignore '*/.gitignore' 2>/dev/null; then
    CLEAN_CHECKOUT="$1"
  fi
  step_emit checkout ok "" "$3"
}

# The state and log folders and each service's config folder (private to the node's owner).
layout_step() {
  local -a dirs=("${STATE_DIR}" "${LOG_DIR}")
  local svc
  for svc in "${MANIFEST_SERVICES[@]}"; do
    dirs+=("${CONFIG_DIR}/${svc}")
  done
  local -a plan=()
  local d
  for d in "${dirs[@]}"; do
    [[ -d "${d}" ]] || plan+=(--would "mkdir -p ${d}")
  done
  act --skip layout "" "dry-run" "${plan[@]}" -- layout_make "${dirs[@]}"
}

layout_make() {
  mkdir -p -- "$@"
  chmod 700 -- "${CONFIG_DIR}" 2>/dev/null || true
  step_emit layout ok "" "${ROOT}"
}

# Each service's compose files confined to its folders, present and accepted by `docker compose
# config` (the hash is kept for a deploy in this run). Without an engine a real run has already
# failed its docker step; a dry run says what it could not check.
compose_config_step() {
  if ((!DOCKER_OK)); then
    act --skip compose-config "" "dry-run: no Docker engine, compose files not checked"
    return 0
  fi
  local svc
  local sdir
  local override
  for svc in "${MANIFEST_SERVICES[@]}"; do
    service_dir_to sdir "${svc}"
    service_override_to override "${svc}"
    if ! confined_file "${sdir}" "${sdir}/docker-compose.yml" ||
      ! confined_file "${CONFIG_DIR}/${svc}" "${override}"; then
      step_fail compose-config "${svc}" "${CONFINED_ERROR}"
      STEPS_FAILED=1
    elif [[ ! -f "${sdir}/docker-compose.yml" ]]; then
      step_fail compose-config "${svc}" "hosts/${NODE}/${svc}/docker-compose.yml is missing"
      STEPS_FAILED=1
    else
      local vrc=0
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
        STEPS_FAILED=1
      fi
    fi
  done
  return 0
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
  # a fresh look (compose.sh node_ps_to), kept for the drift record and verify while nothing changes
  node_ps_forget
  node_ps_to out || rc=$?
  if ((rc != 0)); then
    RUNNING_ERROR="${NODE_PS_ERROR}"
    return "${rc}"
  fi
  local -A stopped=()
  local p
  local state
  local cid
  local chash
  local cname
  local _status
  DRIFTED_PROJECTS=()
  drift_recorded_load
  while IFS=$'\037' read -r p cid chash cname state _status; do
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

# deploy: the assigned services brought to what the checkout says, the unassigned ones taken
# down, then what runs recorded with the deployed commit.
stage_deploy() {
  STEPS_FAILED=0
  deploy_target_step
  act -- temp_files_clean
  act -- checkout_clean_step checkout || return 1
  load_manifest_step || return $?
  docker_step || return 1
  secrets_step || return 1
  secrets_load "${ROOT}"
  running_step
  services_read
  local svc
  for svc in "${MANIFEST_SERVICES[@]}"; do
    service_up_step "${svc}"
  done
  for svc in "${!DEPLOYED_HASH[@]}"; do
    if ! manifest_has_service "${svc}"; then
      service_down_step "${svc}"
    fi
  done
  ((STEPS_FAILED == 0)) || return 1
  act -- deployed_step
}

# The checkout is the commit prepare checked out (--ref, when given); TARGET becomes it.
deploy_target_step() {
  local head
  repo_head_to head
  if [[ -n "${REF}" && "${head}" != "${REF}"* ]]; then
    step_fail checkout "" "the checkout is at ${head}, not ${REF}: run \`deploy.sh prepare --ref ${REF}\` first"
    return 1
  fi
  local was="${TARGET}"
  TARGET="${head}"
  # with_stage has written `deploy running`; again only when the target it named was not the head
  [[ "${was}" == "${head}" ]] || cs_write deploy running
}

# What runs now (one docker ps: running projects, drift, the listing), and the containers an
# interrupted compose left behind removed. Nothing to read without an engine (a dry run).
running_step() {
  ((DOCKER_OK)) || return 0
  if ! running_projects_read; then
    step_fail docker "" "docker ps failed: ${RUNNING_ERROR}"
    return 1
  fi
  act -- leftovers_step
}

leftovers_step() {
  if ! compose_leftovers_clean; then
    step_fail leftovers "" "${LEFTOVERS_ERROR}"
    return 1
  fi
  if [[ -n "${LEFTOVERS_DONE}" ]]; then
    log_info "containers left by an interrupted compose: ${LEFTOVERS_DONE}"
    step_emit leftovers ok "" "${LEFTOVERS_DONE}"
  fi
}

# One assigned service: left alone when unchanged (same configuration hash, all its containers
# running, no drift, no update asked), otherwise `compose up` (up_step). Without an engine (only a
# dry run gets here: docker_step stops a real one) the plan cannot compare with what runs.
service_up_step() {
  local svc="$1"
  local project
  project_name_to project "${svc}"
  if ((!DOCKER_OK)); then
    compose_args "${svc}"
    act --skip compose-up "${svc}" "dry-run: no Docker engine" \
      --would "docker compose ${COMPOSE_ARGS[*]} up -d --remove-orphans (no Docker engine: not compared with what runs)"
    return 0
  fi
  local hash
  local hrc=0
  service_hash_to hash "${svc}" || hrc=$?
  if timed_out "${hrc}"; then
    step_fail compose-config "${svc}" "$(printf '%s' "${COMPOSE_ERROR}" | tail -n 1)"
    return 1
  elif ((hrc != 0)); then
    log_output "${COMPOSE_ERROR}"
    step_fail compose-config "${svc}" "docker compose config rejects ${svc}: $(printf '%s' "${COMPOSE_ERROR}" | tail -n 1)"
    STEPS_FAILED=1
    return 0
  fi
  if [[ "${DEPLOYED_HASH["${svc}"]:-}" == "${hash}" && -n "${RUNNING_PROJECTS["${project}"]:-}" && -z "${DRIFTED_PROJECTS["${project}"]:-}" ]] && ! update_wanted "${svc}"; then
    step_emit unchanged skip "${svc}" "configuration unchanged"
    log_info "${project}: unchanged"
    return 0
  fi
  local why
  up_reason_to why "${svc}" "${hash}" "${project}"
  compose_args "${svc}"
  local -a up=(compose "${COMPOSE_ARGS[@]}" up -d --remove-orphans)
  # compose recreates only the containers whose image the pull moved (image update)
  [[ "${why}" == "not running" || "${why}" == "image update" ]] || up+=(--force-recreate)
  act --skip compose-up "${svc}" "dry-run: ${why}" --would "docker ${up[*]} (${why})" \
    -- up_step "${svc}" "${project}" "${hash}" "${why}" "${up[@]}"
}

# up_reason_to VAR SVC HASH PROJECT: why a service that is not unchanged is brought up.
# shellcheck disable=SC2034 # up_reason_out is a nameref: it sets the caller's VAR
up_reason_to() {
  local -n up_reason_out="$1"
  local svc="$2"
  local deployed="${DEPLOYED_HASH["${svc}"]:-}"
  if [[ -n "${deployed}" && "${deployed}" != "$3" ]]; then
    up_reason_out="configuration changed"
  elif [[ -z "${deployed}" ]]; then
    up_reason_out="first deploy"
  elif [[ -n "${DRIFTED_PROJECTS["$4"]:-}" ]]; then
    up_reason_out="drift: ${DRIFTED_PROJECTS["$4"]}"
  elif [[ -n "${RUNNING_PROJECTS["$4"]:-}" ]] && update_wanted "${svc}"; then
    up_reason_out="image update"
  else
    up_reason_out="not running"
  fi
}

# up_step SVC PROJECT HASH WHY COMMAND...: the service's images pulled first (lib/images.sh: a
# failed pull leaves its containers alone), then COMMAND (compose up); HASH recorded on success.
up_step() {
  local svc="$1"
  local project="$2"
  local hash="$3"
  local why="$4"
  shift 4
  if ! images_pull_step "${svc}"; then
    STEPS_FAILED=1
    return 0
  fi
  step_emit compose-up start "${svc}" "${why}"
  log_info "compose up ${project} (${why})"
  local t0
  now_ms_to t0
  local out
  local urc=0
  out="$(dk_long "$@" 2>&1)" || urc=$?
  log_output "${out}"
  local t1
  now_ms_to t1
  if ((urc == 0)); then
    services_write "${svc}" "${hash}"
    step_emit compose-up ok "${svc}" "${why}" "$((t1 - t0))"
  elif timed_out "${urc}"; then
    step_fail compose-up "${svc}" "$(printf '%s' "${out}" | tail -n 1)"
    return 1
  else
    step_fail compose-up "${svc}" "docker compose up ${project} failed: $(redact "$(printf '%s' "${out}" | tail -n 1)")"
    STEPS_FAILED=1
  fi
}

# A service deployed here that is no longer assigned to the node: `compose down` (down_step).
service_down_step() {
  local svc="$1"
  local project
  project_name_to project "${svc}"
  act --skip compose-down "${svc}" "dry-run: no longer assigned" \
    --would "docker compose -p ${project} down --remove-orphans (no longer assigned)" \
    -- down_step "${svc}" "${project}"
}

# down_step SVC PROJECT: the project's containers removed, then its record.
down_step() {
  local svc="$1"
  local project="$2"
  step_emit compose-down start "${svc}" "no longer assigned to ${NODE}"
  local t0
  now_ms_to t0
  local out
  local drc=0
  out="$(dk_long compose -p "${project}" down --remove-orphans 2>&1)" || drc=$?
  log_output "${out}"
  local t1
  now_ms_to t1
  if ((drc == 0)); then
    services_write "${svc}" ""
    step_emit compose-down ok "${svc}" "no longer assigned" "$((t1 - t0))"
  elif timed_out "${drc}"; then
    step_fail compose-down "${svc}" "$(printf '%s' "${out}" | tail -n 1)"
    return 1
  else
    step_fail compose-down "${svc}" "docker compose down ${project} failed: $(redact "$(printf '%s' "${out}" | tail -n 1)")"
    STEPS_FAILED=1
  fi
}

# The deployed containers recorded (drift's reference, lib/drift.sh), then the deployed commit.
deployed_step() {
  drift_record || return 1
  state_set deployed "${TARGET}"
}

# rollback's own stage: the known-good commit checked out; run_rollback deploys and verifies it.
stage_rollback_checkout() {
  known_good_step
  act --skip checkout "" "dry-run: would check out known-good ${TARGET}, then deploy and verify it" \
    --would "git -C ${REPO} checkout --detach ${TARGET}" -- rollback_checkout_step
}

# TARGET is the node's known-good commit; a node without one has nothing to roll back to.
known_good_step() {
  local kg
  kg="$(state_get known_good)"
  if [[ -z "${kg}" ]]; then
    step_fail known-good "" "no known-good commit on this node: nothing to roll back to"
    return 1
  fi
  TARGET="${kg}"
}

# The known-good commit (TARGET) checked out in a clean checkout, and its image digests pinned
# for this run's deploy (lib/images.sh).
rollback_checkout_step() {
  cs_write rollback running
  temp_files_clean
  state_set target "${TARGET}"
  checkout_clean_step checkout || return 1
  git_checkout_step "${TARGET}" "git checkout of known-good ${TARGET}" "known-good ${TARGET}"
  images_pin_write "${TARGET}" || return 1
}

run_rollback() {
  REF=""
  # current_stage's kind: a resume of this run pins the known-good digests again.
  RUN_KIND=rollback
  with_stage rollback stage_rollback_checkout
  # A dry run stops here: it cannot show deploy's plan for a commit it did not check out.
  act -- rollback_redeploy
}

# The known-good commit deployed with its digests, whatever the tags point to now (lib/images.sh),
# for this run only; then verified.
rollback_redeploy() {
  # shellcheck disable=SC2034 # read by compose_args (lib/compose.sh)
  PIN_IMAGES=1
  with_stage deploy stage_deploy
  with_stage verify stage_verify
}

# resume_check STAGE TARGET: there is a stage to resume, and it goes towards --ref when given.
resume_check() {
  if [[ -z "$1" ]]; then
    STAGE_ERROR="nothing to resume: no stage has run on this node (run prepare --ref SHA)"
    log_error "${STAGE_ERROR}"
    return 1
  fi
  if [[ -n "${REF}" && "$2" != "${REF}"* ]]; then
    STAGE_ERROR="resume continues towards $2, not ${REF}: run prepare --ref ${REF}"
    log_error "${STAGE_ERROR}"
    return 1
  fi
}

# resume_todo_to VAR STAGE STATUS: the stages a resume runs after STAGE ended STATUS (none after
# a verify that succeeded).
# shellcheck disable=SC2034 # resume_todo_out is a nameref: it sets the caller's VAR
resume_todo_to() {
  local -n resume_todo_out="$1"
  case "$2:$3" in
    prepare:ok) resume_todo_out=(deploy verify) ;;
    prepare:*) resume_todo_out=(prepare deploy verify) ;;
    deploy:ok) resume_todo_out=(verify) ;;
    # A failed verify re-runs deploy first (a no-op for unchanged services) so a fixed .env applies.
    deploy:* | verify:failed | verify:interrupted) resume_todo_out=(deploy verify) ;;
    verify:ok) resume_todo_out=() ;;
    rollback:ok) resume_todo_out=(deploy verify) ;;
    rollback:*) resume_todo_out=(rollback) ;;
    *) resume_todo_out=(prepare deploy verify) ;;
  esac
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
  local kind
  kind="$(kv_get "${cs}" kind)"
  [[ "$(kv_get "${cs}" run_stage)" != rollback ]] || kind=rollback
  resume_check "${stage}" "${target}"
  # We hold the lock, so a `running` state was left by a killed run.
  [[ "${status}" == running ]] && status=interrupted
  local -a todo=()
  resume_todo_to todo "${stage}" "${status}"
  if ((${#todo[@]} == 0)); then
    log_info "nothing to resume: verify of ${target} succeeded"
    return 0
  fi
  # A rollback's deploy and verify (kind=rollback, kept by each resume of it) start the known-good
  # digests again, whatever the tags point to now: its first stage writes the pins (lib/images.sh).
  local deploy_fn=stage_deploy
  local verify_fn=stage_verify
  if [[ "${kind}" == rollback && "${todo[0]}" != rollback ]] && ((!DRY_RUN)); then
    RUN_KIND=rollback
    # shellcheck disable=SC2034 # read by compose_args (lib/compose.sh)
    PIN_IMAGES=1
    deploy_fn=resume_pinned_deploy
    [[ "${todo[0]}" == deploy ]] || verify_fn=resume_pinned_verify
  fi
  log_info "resuming ${stage} (${status}${RUN_KIND:+ of a rollback}) towards ${target}: ${todo[*]}"
  REF="${target}"
  TARGET="${target}"
  local s
  for s in "${todo[@]}"; do
    case "${s}" in
      prepare) with_stage prepare stage_prepare ;;
      deploy) with_stage deploy "${deploy_fn}" ;;
      verify) with_stage verify "${verify_fn}" ;;
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
  act -- with_stage verify stage_verify
}

# diagnose: the manifest (when readable) then lib/diagnose.sh's stage_diagnose (read-only).
run_diagnose() {
  if ! manifest_load "${MANIFEST_FILE}"; then
    log_warn "${MANIFEST_ERROR}: diagnosing without the node's services"
  fi
  stage_diagnose
}
