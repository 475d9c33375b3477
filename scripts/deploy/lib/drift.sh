#!/usr/bin/env bash
# Drift: what runs on the node is not what its deployed commit says.
#
# deploy records, after it brought the services up, the containers of each of its compose
# projects in <state>/containers.tsv (`service<TAB>container id<TAB>compose config hash`, the
# label com.docker.compose.config-hash). status compares the containers `docker ps` lists (the one
# call it already makes) with that record and looks at the checkout (`git status` of tracked files):
#   config     a container runs another compose configuration than deploy recorded (changed by hand)
#   container  a container of the project that deploy did not create (started or recreated by hand)
#   missing    a deployed service with no container
#   extra      a project <node>_<name> for a service that is not deployed here
#   checkout   a tracked file of the node's checkout edited locally
# Each drift item is `{service, kind, detail, fix}` in the status record's `drift` list.
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: drift_checkout_to drift_container_check drift_extra_to drift_record
#     drift_recorded_load drift_service_to
#   sets: DRIFTED_PROJECTS DRIFT_REC_HASH DRIFT_REC_HASHES DRIFT_REC_IDS
#   reads: NODE NODE_PS_ERROR REPO STATE_DIR STATUS_TIMEOUT

# Containers recorded by the last deploy: DRIFT_REC_IDS[service]=" id id ", DRIFT_REC_HASH[id]=hash.
declare -A DRIFT_REC_IDS=()
declare -A DRIFT_REC_HASH=()
# The config hashes deploy recorded per service: DRIFT_REC_HASHES[service]=" hash hash ".
declare -A DRIFT_REC_HASHES=()
drift_recorded_load() {
  DRIFT_REC_IDS=()
  DRIFT_REC_HASH=()
  DRIFT_REC_HASHES=()
  local text
  state_get_to text containers.tsv
  local svc
  local id
  local hash
  while IFS=$'\t' read -r svc id hash; do
    [[ -n "${svc}" && "${id}" =~ ^[0-9a-f]{12,64}$ ]] || continue
    DRIFT_REC_IDS["${svc}"]+=" ${id:0:12} "
    DRIFT_REC_HASH["${id:0:12}"]="${hash}"
    DRIFT_REC_HASHES["${svc}"]+=" ${hash} "
  done <<<"${text}"
  return 0
}

# drift_record: writes containers.tsv from a new listing of the node's projects (node_ps_to, which
# verify's first look then reads), after deploy brought its services up. Returns non-zero when
# docker or the write fails.
drift_record() {
  ((DRY_RUN)) && return 0
  local out
  local rc=0
  node_ps_forget
  node_ps_to out || rc=$?
  if ((rc != 0)); then
    step_fail record "" "docker ps failed while recording the deployed containers: ${NODE_PS_ERROR}"
    return 1
  fi
  local text=""
  local project
  local id
  local hash
  local svc
  local _rest
  while IFS=$'\037' read -r project id hash _rest; do
    [[ "${project}" == "${NODE}_"* ]] || continue
    svc="${project#"${NODE}_"}"
    manifest_has_service "${svc}" || continue
    text+="${svc}	${id}	${hash}"$'\n'
  done <<<"${out}"
  atomic_write "${STATE_DIR}/containers.tsv" "${text}"
}

# drift_service_to VAR SERVICE PROJECT ROWS: the drift items (JSON objects, comma-joined) of one
# deployed service from its containers' rows ("id<TAB>config hash<TAB>name" lines).
drift_service_to() {
  local -n _drift_out="$1"
  local svc="$2"
  local project="$3"
  local rows="$4"
  _drift_out=""
  local fix="redeploy: homelab run deploy --node ${NODE} (or make the change in Git on SATURN, commit and deploy)"
  local item
  local id
  local hash
  local name
  local n=0
  local recorded="${DRIFT_REC_IDS["${svc}"]:-}"
  while IFS=$'\t' read -r id hash name; do
    [[ -n "${id}" ]] || continue
    n=$((n + 1))
    [[ -n "${recorded}" ]] || continue
    if [[ "${recorded}" == *" ${id:0:12} "* && "${DRIFT_REC_HASH["${id:0:12}"]:-}" == "${hash}" ]]; then
      continue
    elif [[ "${DRIFT_REC_HASHES["${svc}"]:-}" != *" ${hash} "* ]]; then
      local want="${DRIFT_REC_HASHES["${svc}"]# }"
      json_obj_to item service "${svc}" kind config detail "container ${name} runs compose config ${hash:0:12}, not the deployed ${want:0:12}: changed by hand" fix "${fix}"
    else
      json_obj_to item service "${svc}" kind container detail "container ${name} (${id:0:12}) of ${project} was not created by deploy.sh: started or recreated by hand" fix "${fix}"
    fi
    _drift_out+="${_drift_out:+,}${item}"
  done <<<"${rows}"
  if ((n == 0)); then
    json_obj_to item service "${svc}" kind missing detail "${project} is deployed but has no container" fix "${fix}"
    _drift_out+="${_drift_out:+,}${item}"
  fi
  return 0
}

# drift_extra_to VAR PROJECT: the item of a project of this node that runs no deployed service.
drift_extra_to() {
  local -n _extra_out="$1"
  local svc="${2#"${NODE}_"}"
  json_obj_to _extra_out service "${svc}" kind extra detail "compose project $2 runs on ${NODE}, which does not deploy ${svc}" \
    fix "remove it on the node (docker compose -p $2 down), or assign ${svc} to ${NODE} in Git on SATURN, commit and deploy"
}

# drift_checkout_to VAR: the items of tracked files edited in the node's checkout (one bounded
# `git status`, no optional locks: status writes nothing).
drift_checkout_to() {
  local -n _co_out="$1"
  _co_out=""
  local out
  out="$(timeout -k 1 "${STATUS_TIMEOUT}" git -C "${REPO}" --no-optional-locks status --porcelain=v1 --untracked-files=no 2>/dev/null 9>&-)" || return 0
  local line
  local path
  local item
  local n=0
  while IFS= read -r line; do
    [[ -n "${line}" ]] || continue
    path="${line:3}"
    n=$((n + 1))
    ((n <= 20)) || break
    json_obj_to item service "" kind checkout detail "${path} is changed in the node's checkout ${REPO} (${line:0:2})" \
      fix "undo it on the node (git -C ${REPO} checkout -- ${path}), or make the change in Git on SATURN, commit and deploy"
    _co_out+="${_co_out:+,}${item}"
  done <<<"${out}"
  return 0
}

# Projects whose containers drifted from what deploy recorded (deploy recreates them):
# DRIFTED_PROJECTS[project]=why. Filled by stages.sh running_projects_read.
# shellcheck disable=SC2034 # read by stages.sh stage_deploy
declare -A DRIFTED_PROJECTS=()
# drift_container_check PROJECT ID HASH: one container of `docker ps` against the record.
# shellcheck disable=SC2034 # DRIFTED_PROJECTS is read by stages.sh stage_deploy
drift_container_check() {
  local svc="${1#"${NODE}_"}"
  local recorded="${DRIFT_REC_IDS["${svc}"]:-}"
  [[ "$1" == "${NODE}_"* && -n "${recorded}" && -n "$2" ]] || return 0
  if [[ "${recorded}" != *" ${2:0:12} "* ]]; then
    DRIFTED_PROJECTS["$1"]="container ${2:0:12} not created by deploy.sh"
  elif [[ "${DRIFT_REC_HASH["${2:0:12}"]:-}" != "$3" ]]; then
    # (a container's labels never change: only a record from another deploy differs)
    DRIFTED_PROJECTS["$1"]="compose config changed by hand"
  fi
  return 0
}
