#!/usr/bin/env bash
# Node-wide diagnose checks: docker daemon, disks, memory, load, git checkout, the last deploy log, GPU.
# Part of lib/diagnose.sh (read by it; uses its DIAG_* globals, diag_finding and diag_docker).
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: diag_check_disks diag_check_docker diag_check_git diag_check_gpu diag_check_last_log
#     diag_check_load diag_check_memory diag_disk_one diag_excerpt diag_git diag_json_field
#     diag_judge_load diag_last_log diag_meminfo diag_svc_suffix diag_tail
#   sets: DIAG_DOCKER_OK
#   reads: DEPLOY_LOG DIAGNOSE_DOCKER_TIMEOUT DIAGNOSE_LOG_LINES DIAG_LOGS DIAG_NODE DIAG_REPO
#     NODE_TAGS

# --- node-wide checks -------------------------------------------------------------------------------

diag_check_docker() {
  local out
  local rc=0
  out="$(diag_docker info --format '{{.ServerVersion}}' 2>&1)" || rc=$?
  if ((rc == 0)); then
    DIAG_DOCKER_OK=1
    diag_finding docker.daemon ok "Docker engine ${out} answers" "docker info: server ${out}" ""
  elif ((rc == 124 || rc == 137)); then
    diag_finding docker.daemon fail "Docker engine does not answer (timed out after ${DIAGNOSE_DOCKER_TIMEOUT}s)" \
      "docker info did not return within ${DIAGNOSE_DOCKER_TIMEOUT}s" \
      "Check the daemon: systemctl status docker; journalctl -u docker -n 50; restart it with systemctl restart docker"
    return 0
  else
    diag_finding docker.daemon fail "Docker engine is not answering" "$(diag_tail "${out}" 5)" \
      "Start Docker (systemctl start docker) and check that the deploy user may use it (group docker)"
    return 0
  fi
  rc=0
  out="$(diag_docker compose version --short 2>&1)" || rc=$?
  if ((rc != 0)); then
    diag_finding docker.compose fail "Docker Compose v2 (docker compose) is missing" "$(diag_tail "${out}" 3)" \
      "Install the docker-compose-plugin package (Compose v2); docker-compose v1 is not supported"
  fi
}

# Last N lines of TEXT.
diag_tail() {
  local text="$1"
  local n="$2"
  [[ -z "${text}" ]] && return 0
  printf '%s\n' "${text}" | tail -n "${n}"
}

# diag_disk_one ID LABEL PATH
diag_disk_one() {
  local id="$1"
  local label="$2"
  local path="$3"
  local line
  line="$(df -P -- "${path}" 2>/dev/null | tail -n 1)" || true
  local -a f
  read -r -a f <<<"${line}"
  local pct="${f[4]:-}"
  pct="${pct%\%}"
  if [[ ! "${pct}" =~ ^[0-9]+$ ]]; then
    diag_finding "${id}" warn "Cannot read disk usage of ${label} (${path})" "df -P ${path}: ${line}" "Check that ${path} exists and is mounted"
    return 0
  fi
  local avail_mb=$(((${f[3]:-0}) / 1024))
  local evidence="${f[5]:-${path}} on ${f[0]:-?}: ${pct}% used, ${avail_mb} MiB free"
  if ((pct >= 95)); then
    diag_finding "${id}" fail "${label} is ${pct}% full" "${evidence}" \
      "Free space now: docker system prune (unused images/containers), docker image prune -a, old logs in ${DIAG_LOGS}"
  elif ((pct >= 85)); then
    diag_finding "${id}" warn "${label} is ${pct}% full" "${evidence}" \
      "Free space soon: docker image prune -a removes unused images; check du -xh --max-depth=1 ${f[5]:-${path}}"
  else
    diag_finding "${id}" ok "${label} ${pct}% used" "${evidence}" ""
  fi
}

diag_check_disks() {
  diag_disk_one disk.root "root filesystem" /
  local data=""
  if ((DIAG_DOCKER_OK)); then
    data="$(diag_docker info --format '{{.DockerRootDir}}' 2>/dev/null)" || data=""
  fi
  if [[ -n "${data}" && -d "${data}" ]]; then
    local root_dev
    local data_dev
    root_dev="$(stat -c %d / 2>/dev/null)" || root_dev=""
    data_dev="$(stat -c %d "${data}" 2>/dev/null)" || data_dev=""
    if [[ "${root_dev}" != "${data_dev}" ]]; then
      diag_disk_one disk.docker "Docker data filesystem" "${data}"
    else
      diag_finding disk.docker ok "Docker data (${data}) is on the root filesystem" "stat: same device as /" ""
    fi
  fi
}

diag_meminfo() {
  local key="$1"
  local k
  local v
  local _unit
  while read -r k v _unit; do
    if [[ "${k}" == "${key}:" ]]; then
      printf '%s' "${v}"
      return 0
    fi
  done </proc/meminfo
  printf '0'
}

diag_check_memory() {
  [[ -r /proc/meminfo ]] || return 0
  local total
  local avail
  local swap_total
  local swap_free
  total="$(diag_meminfo MemTotal)"
  avail="$(diag_meminfo MemAvailable)"
  swap_total="$(diag_meminfo SwapTotal)"
  swap_free="$(diag_meminfo SwapFree)"
  if ((total > 0)); then
    local pct=$((avail * 100 / total))
    local evidence="MemAvailable $((avail / 1024)) MiB of $((total / 1024)) MiB (${pct}% available)"
    if ((pct < 5)); then
      diag_finding memory fail "Memory nearly exhausted: ${pct}% available" "${evidence}" \
        "Find the biggest consumers (docker stats --no-stream; ps aux --sort=-rss | head) and set mem_limit on services"
    elif ((pct < 15)); then
      diag_finding memory warn "Memory low: ${pct}% available" "${evidence}" \
        "Check docker stats --no-stream for containers that grow; consider mem_limit"
    else
      diag_finding memory ok "Memory ${pct}% available" "${evidence}" ""
    fi
  fi
  if ((swap_total > 0)); then
    local used=$(((swap_total - swap_free) * 100 / swap_total))
    local sev=ok
    ((used >= 50)) && sev=warn
    ((used >= 90)) && sev=fail
    diag_finding swap "${sev}" "Swap ${used}% used" "Swap $(((swap_total - swap_free) / 1024)) MiB of $((swap_total / 1024)) MiB used" \
      "Heavy swapping slows every service: find the memory hog (ps aux --sort=-rss | head) and limit it"
  else
    diag_finding swap ok "No swap configured" "SwapTotal 0" ""
  fi
}

diag_check_load() {
  [[ -r /proc/loadavg ]] || return 0
  local one
  local five
  local fifteen
  local _rest
  read -r one five fifteen _rest </proc/loadavg
  local cpus
  cpus="$(nproc 2>/dev/null)" || cpus=1
  diag_judge_load "${one}" "${five}" "${fifteen}" "${cpus}"
}

# The load finding for these figures. A busy CPU is a consequence (of a service, a build, a
# backup), never the cause diagnose looks for: it is at most a warning, never a failure.
diag_judge_load() {
  local one="$1"
  local five="$2"
  local fifteen="$3"
  local cpus="$4"
  [[ "${cpus}" =~ ^[1-9][0-9]*$ ]] || cpus=1
  # Compare the 5-minute load to the core count, in hundredths, without floating point.
  local load100
  load100="$(awk -v l="${five}" 'BEGIN { printf "%d", l * 100 }')" || load100=0
  local evidence="load average ${one} ${five} ${fifteen} on ${cpus} CPU(s)"
  if ((load100 >= cpus * 300)); then
    diag_finding load warn "Load ${five} is far above ${cpus} CPU(s)" "${evidence}" \
      "Find what is busy: top -o %CPU, docker stats --no-stream"
  elif ((load100 >= cpus * 150)); then
    diag_finding load warn "Load ${five} is high for ${cpus} CPU(s)" "${evidence}" "Check top -o %CPU and docker stats --no-stream"
  else
    diag_finding load ok "Load ${five} on ${cpus} CPU(s)" "${evidence}" ""
  fi
}

diag_git() {
  timeout 10 git -C "${DIAG_REPO}" "$@"
}

diag_check_git() {
  if ! diag_git rev-parse --git-dir >/dev/null 2>&1; then
    diag_finding git.checkout fail "No Git checkout at ${DIAG_REPO}" "git rev-parse failed" \
      "Bootstrap the node again from SATURN: homelab node bootstrap ${DIAG_NODE}"
    return 0
  fi
  local head
  head="$(diag_git rev-parse HEAD 2>/dev/null)" || head=""
  local dirty
  dirty="$(diag_git status --porcelain=v1 --untracked-files=normal 2>/dev/null | head -n 20)" || dirty=""
  if [[ -n "${dirty}" ]]; then
    diag_finding git.dirty warn "The node's checkout has local changes" "${dirty}" \
      "Changes belong in Git on SATURN. Inspect with git -C ${DIAG_REPO} diff; discard with git -C ${DIAG_REPO} checkout -- . && git -C ${DIAG_REPO} clean -fd"
  else
    diag_finding git.dirty ok "The checkout is clean" "git status: no local changes" ""
  fi
  local target
  target="$(state_get target)"
  local branch
  branch="$(diag_git symbolic-ref --short -q HEAD 2>/dev/null)" || branch=""
  if [[ -n "${target}" && -n "${head}" && "${head}" != "${target}" ]]; then
    diag_finding git.commit fail "Checked out ${head:0:12}${branch:+ (${branch})}, but the deploy target is ${target:0:12}" \
      "HEAD ${head}; state target ${target}" \
      "Run the prepare stage again (homelab run prepare --node ${DIAG_NODE}, or deploy.sh resume) to check out the target"
  elif [[ -n "${head}" ]]; then
    diag_finding git.commit ok "Checked out ${head:0:12}${branch:+ on ${branch}}${target:+, the deploy target}" "HEAD ${head}" ""
  fi
  local upstream=""
  if [[ -n "${branch}" ]]; then
    upstream="$(diag_git rev-parse --abbrev-ref --symbolic-full-name '@{upstream}' 2>/dev/null)" || upstream=""
  fi
  if [[ -z "${upstream}" ]]; then
    upstream="$(diag_git rev-parse --abbrev-ref origin/HEAD 2>/dev/null)" || upstream=""
  fi
  if [[ -n "${upstream}" && "${upstream}" != "origin/HEAD" ]]; then
    local behind
    behind="$(diag_git rev-list --count "HEAD..${upstream}" 2>/dev/null)" || behind=""
    if [[ "${behind}" =~ ^[1-9][0-9]*$ ]]; then
      local sev=warn
      [[ -n "${target}" && "${head}" == "${target}" ]] && sev=ok
      diag_finding git.behind "${sev}" "Checkout is ${behind} commit(s) behind ${upstream} (as of the last fetch)" \
        "git rev-list --count HEAD..${upstream}: ${behind}" \
        "Deploy the newer commit from SATURN: homelab run prepare --node ${DIAG_NODE}"
    fi
  fi
}

# The newest deploy log of a run other than this one and other than a diagnose or status run.
diag_last_log() {
  local file
  local -a logs=()
  [[ -d "${DIAG_LOGS}" ]] || return 0
  mapfile -t logs < <(find "${DIAG_LOGS}" -maxdepth 1 -type f -name 'deploy_*.log' -printf '%T@ %p\n' 2>/dev/null | sort -rn | cut -d' ' -f2-)
  for file in "${logs[@]}"; do
    [[ -n "${DEPLOY_LOG:-}" && "${file}" -ef "${DEPLOY_LOG}" ]] && continue
    if grep -m 1 -q '^@homelab/1 run .*"stage":"diagnose"' "${file}" 2>/dev/null; then
      continue
    fi
    printf '%s' "${file}"
    return 0
  done
}

# JSON string field from one of our own protocol records (flat, one line, no nested objects).
diag_json_field() {
  local record="$1"
  local key="$2"
  local re="\"${key}\":\"(([^\"\\\\]|\\\\.)*)\""
  if [[ "${record}" =~ ${re} ]]; then
    local v="${BASH_REMATCH[1]}"
    v="${v//\\n/ }"
    v="${v//\\\"/\"}"
    printf '%s' "${v}"
  fi
}

diag_check_last_log() {
  local file
  file="$(diag_last_log)"
  if [[ -z "${file}" ]]; then
    diag_finding deploy.last-run ok "No earlier deploy log in ${DIAG_LOGS}" "" ""
    return 0
  fi
  local fail_line
  # The first failing step: the one the stage's error names (later ones are often consequences).
  fail_line="$(grep -n -m 1 '^@homelab/1 step .*"status":"fail"' "${file}" 2>/dev/null)" || fail_line=""
  local end_line
  end_line="$(grep '^@homelab/1 run-end ' "${file}" 2>/dev/null | tail -n 1)" || end_line=""
  local run_line
  run_line="$(grep -m 1 '^@homelab/1 run ' "${file}" 2>/dev/null)" || run_line=""
  local run_stage
  run_stage="$(diag_json_field "${run_line}" stage)"
  if [[ -z "${fail_line}" ]]; then
    local result
    result="$(diag_json_field "${end_line}" result)"
    if [[ -z "${end_line}" ]]; then
      diag_finding deploy.last-run warn "The last ${run_stage:-deploy} run did not finish (no run-end record)" \
        "$(diag_excerpt "${file}" 0)" \
        "It was killed or is still running: deploy.sh status shows the lock; then deploy.sh resume" "" 
    elif [[ "${result}" == ok ]]; then
      diag_finding deploy.last-run ok "The last ${run_stage:-deploy} run succeeded" "log ${file}" ""
    else
      local err
      err="$(grep '^@homelab/1 stage-end .*"result":"failed"' "${file}" 2>/dev/null | tail -n 1)" || err=""
      diag_finding deploy.last-run fail "The last ${run_stage:-deploy} run ended ${result:-failed}: $(diag_json_field "${err}" error)" \
        "$(diag_excerpt "${file}" 0)" "Fix the cause shown above, then deploy.sh resume (or roll back: deploy.sh rollback)"
    fi
    return 0
  fi
  local lineno="${fail_line%%:*}"
  local record="${fail_line#*:}"
  local stage
  local step
  local service
  local detail
  stage="$(diag_json_field "${record}" stage)"
  step="$(diag_json_field "${record}" step)"
  service="$(diag_json_field "${record}" service)"
  detail="$(diag_json_field "${record}" detail)"
  local from
  from="$(grep -n '^@homelab/1 stage-start ' "${file}" 2>/dev/null | awk -F: -v n="${lineno}" '$1 <= n { s = $1 } END { print s + 0 }')" || from=0
  diag_finding deploy.failed-step fail "Last run failed at stage ${stage}, step ${step}${service:+, service ${service}}${detail:+: ${detail%%$'\n'*}}" \
    "$(diag_excerpt "${file}" "${from}")" \
    "Log: ${file}. Fix the cause, then deploy.sh resume continues from stage ${stage}; or deploy.sh rollback" "${service}"
}

# The log from line FROM (0: the start) as a person reads it: log lines as they are, failed steps and
# checks as one line each, other records left out; the last DIAGNOSE_LOG_LINES lines.
diag_excerpt() {
  local file="$1"
  local from="$2"
  ((from > 0)) || from=1
  local line
  tail -n "+${from}" -- "${file}" 2>/dev/null | while IFS= read -r line; do
    case "${line}" in
      '@homelab/1 step '*'"status":"fail"'*)
        printf 'step %s failed%s: %s\n' "$(diag_json_field "${line}" step)" "$(diag_svc_suffix "$(diag_json_field "${line}" service)")" "$(diag_json_field "${line}" detail)"
        ;;
      '@homelab/1 check '*'"status":"fail"'*)
        printf 'check %s %s failed: %s\n' "$(diag_json_field "${line}" check)" "$(diag_json_field "${line}" service)" "$(diag_json_field "${line}" detail)"
        ;;
      '@homelab/'*) ;;
      *) printf '%s\n' "${line}" ;;
    esac
  done | tail -n "${DIAGNOSE_LOG_LINES}"
}

diag_svc_suffix() {
  [[ -n "$1" ]] && printf ' (%s)' "$1"
  return 0
}

diag_check_gpu() {
  [[ ",${NODE_TAGS:-}," == *,gpu,* ]] || return 0
  local -a nv=()
  local -a dri=()
  local dev
  for dev in /dev/nvidia[0-9]* /dev/nvidiactl; do
    [[ -e "${dev}" ]] && nv+=("${dev}")
  done
  for dev in /dev/dri/*; do
    [[ -e "${dev}" ]] && dri+=("${dev}")
  done
  if ((${#nv[@]} > 0)); then
    local smi=""
    local rc=0
    if command -v nvidia-smi >/dev/null 2>&1; then
      smi="$(timeout 10 nvidia-smi -L 2>&1)" || rc=$?
    else
      rc=127
      smi="nvidia-smi not found"
    fi
    if ((rc == 0)); then
      diag_finding gpu.devices ok "NVIDIA GPU visible" "${nv[*]}; ${smi}" ""
    else
      diag_finding gpu.devices fail "NVIDIA device files exist but nvidia-smi fails" "${nv[*]}; ${smi}" \
        "Reinstall or reload the NVIDIA driver (dmesg | grep -i nvidia; a reboot after a kernel update usually fixes a driver/library mismatch)"
    fi
    local runtimes=""
    if ((DIAG_DOCKER_OK)); then
      runtimes="$(diag_docker info --format '{{json .Runtimes}}' 2>/dev/null)" || runtimes=""
    fi
    if [[ "${runtimes}" == *'"nvidia"'* ]]; then
      diag_finding gpu.runtime ok "Docker has the nvidia runtime" "runtimes: ${runtimes}" ""
    else
      diag_finding gpu.runtime fail "Docker has no nvidia runtime: containers cannot use the GPU" "runtimes: ${runtimes:-unknown}" \
        "Install nvidia-container-toolkit, then nvidia-ctk runtime configure --runtime=docker && systemctl restart docker"
    fi
  elif ((${#dri[@]} > 0)); then
    diag_finding gpu.devices ok "GPU render devices visible (/dev/dri)" "${dri[*]}" ""
  else
    diag_finding gpu.devices fail "Node is tagged gpu but no GPU device is visible" "no /dev/nvidia*, no /dev/dri/*" \
      "Check the driver is loaded (lsmod | grep -e nvidia -e i915 -e amdgpu) and that the devices are passed through (VM/LXC)"
  fi
}
