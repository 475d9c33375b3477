#!/usr/bin/env bash
# `deploy.sh resources`: read-only, no lock. One `resources` record (docs/protocol.md): the CPU and
# memory of each running container of the node's projects (`docker stats --no-stream`, about 1-2 s,
# so SATURN asks for it apart from the status record) and the disk usage of docker's data root and
# of the node's root (`df -Pk`). Every docker and df call is bounded by HOMELAB_DOCKER_TIMEOUT.
# What could not be read is said in the record's `error` (the figures read still come).
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: resources_disk_to resources_record
#   sets: -
#   reads: DOCKER_ERROR DOCKER_TIMEOUT NODE ROOT

# resources_disk_to VAR WHAT PATH: sets VAR to a disk object (JSON), or returns 1 (df failed).
resources_disk_to() {
  local -n _rd_out="$1"
  local what="$2"
  local path="$3"
  local out
  out="$(bounded "${DOCKER_TIMEOUT}" "the disk usage of ${path}" df -Pk "${path}" 2>/dev/null)" || return 1
  local size
  local used
  local avail
  local rest
  { read -r _ && read -r _ size used avail rest; } <<<"${out}" || return 1
  [[ "${size}" =~ ^[0-9]+$ && "${used}" =~ ^[0-9]+$ && "${avail}" =~ ^[0-9]+$ ]] || return 1
  json_obj_to _rd_out what "${what}" path "${path}" size_kb:n "${size}" used_kb:n "${used}" \
    avail_kb:n "${avail}"
}

resources_record() {
  local errors=()
  local containers=""
  local disks=""
  local obj
  local docker_root=""
  if docker_check; then
    local ps
    if ps="$(dk ps --no-trunc --filter label=com.docker.compose.project --format '{{.ID}}	{{.Label "com.docker.compose.project"}}' 2>&1)"; then
      local -a ids=()
      local cid
      local p
      while IFS=$'\t' read -r cid p; do
        [[ -n "${cid}" && "${p}" == "${NODE}_"* ]] && ids+=("${cid}")
      done <<<"${ps}"
      if ((${#ids[@]} > 0)); then
        local stats
        if stats="$(dk stats --no-stream --format '{{.ID}}	{{.Name}}	{{.CPUPerc}}	{{.MemUsage}}	{{.MemPerc}}' "${ids[@]}" 2>&1)"; then
          local -A project_of=()
          local rows
          rows="$(dk inspect --format '{{.Id}}	{{index .Config.Labels "com.docker.compose.project"}}' "${ids[@]}" 2>/dev/null)" || rows=""
          while IFS=$'\t' read -r cid p; do
            [[ -n "${cid}" ]] && project_of["${cid}"]="${p}"
          done <<<"${rows}"
          local id
          local name
          local cpu
          local mem
          local memp
          local full
          while IFS=$'\t' read -r id name cpu mem memp; do
            [[ -n "${id}" ]] || continue
            p=""
            for full in "${!project_of[@]}"; do
              [[ "${full}" == "${id}"* ]] && p="${project_of["${full}"]}"
            done
            json_obj_to obj service "${p#"${NODE}_"}" container "${name}" cpu_percent:n "${cpu%\%}" \
              mem_usage "${mem%% / *}" mem_limit "${mem##* / }" mem_percent:n "${memp%\%}"
            containers+="${containers:+,}${obj}"
          done <<<"${stats}"
        else
          errors+=("docker stats failed: $(printf '%s' "${stats}" | tail -n 1)")
        fi
      fi
    else
      errors+=("docker ps failed: $(printf '%s' "${ps}" | tail -n 1)")
    fi
    docker_root="$(dk info --format '{{.DockerRootDir}}' 2>/dev/null)" || docker_root=""
  else
    errors+=("${DOCKER_ERROR}")
  fi
  if [[ -n "${docker_root}" ]]; then
    if resources_disk_to obj docker "${docker_root}"; then
      disks+="${obj}"
    else
      errors+=("df of docker's data root ${docker_root} failed")
    fi
  fi
  if resources_disk_to obj root "${ROOT}"; then
    disks+="${disks:+,}${obj}"
  else
    errors+=("df of the node's root ${ROOT} failed")
  fi
  local error=""
  local e
  for e in "${errors[@]}"; do
    error+="${error:+; }${e}"
  done
  emit resources node "${NODE}" containers:j "[${containers}]" disks:j "[${disks}]" error "${error}"
}
