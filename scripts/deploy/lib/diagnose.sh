#!/usr/bin/env bash
# The diagnose stage: read-only deep checks of a node, each reported as a `finding` record
# (docs/protocol.md: id, severity ok/warn/fail, summary, evidence, hint, optional service) and as a
# plain line for a person. Sourced by deploy.sh (which provides emit/log_* from lib/protocol.sh and
# the loaded manifest from lib/manifest.sh), then `stage_diagnose` runs.
#
# Bounded time: every docker call goes through `diag_docker` (a per-call timeout, and an overall
# budget after which docker calls return 124 at once), so a hung daemon costs seconds, not forever.
#
# Secrets: every text that may carry them (container logs, healthcheck output, compose errors, the
# deploy log, override files) goes through `diag_redact`, which replaces the value of every key of
# every <root>/config/*/.env and anything shaped like a token, key or password, before printing.
#
# Also runnable on its own, for SATURN's recover prompt:
#   bash diagnose.sh redact [--root DIR]   stdin -> stdout with the node's secrets redacted

DIAG_REDACTED='[REDACTED]'
DIAG_MIN_VALUE_LENGTH=3
DIAGNOSE_DOCKER_TIMEOUT="${DIAGNOSE_DOCKER_TIMEOUT:-8}"
DIAGNOSE_BUDGET="${DIAGNOSE_BUDGET:-60}"
DIAGNOSE_LOG_LINES="${DIAGNOSE_LOG_LINES:-25}"

DIAG_ROOT=""
DIAG_REPO=""
DIAG_LOGS=""
DIAG_NODE=""
DIAG_DEADLINE=0
DIAG_DOCKER_OK=0
DIAG_FAILS=0
DIAG_WARNS=0
DIAG_OKS=0
DIAG_SECRET_VALUES=()

# --- redaction ------------------------------------------------------------------------------------

# Loads the values (never kept anywhere but this array) of every .env below <root>/config, longest first.
diag_load_secrets() {
  local root="$1"
  local file
  local line
  local value
  local raw
  local -a found=()
  DIAG_SECRET_VALUES=()
  for file in "${root}"/config/*/.env; do
    [[ -r "${file}" ]] || continue
    while IFS= read -r line || [[ -n "${line}" ]]; do
      line="${line%$'\r'}"
      [[ "${line}" =~ ^[[:space:]]*(export[[:space:]]+)?[A-Za-z_][A-Za-z0-9_.-]*[[:space:]]*=(.*)$ ]] || continue
      raw="${BASH_REMATCH[2]}"
      value="${raw}"
      value="${value#"${value%%[![:space:]]*}"}"
      value="${value%"${value##*[![:space:]]}"}"
      if [[ "${value}" =~ ^\"(.*)\"$ || "${value}" =~ ^\'(.*)\'$ ]]; then
        value="${BASH_REMATCH[1]}"
      fi
      if ((${#value} >= DIAG_MIN_VALUE_LENGTH)); then
        found+=("${value}")
      fi
      # The unquoted form too, in case the quotes were part of what a program printed.
      if [[ "${raw}" != "${value}" ]] && ((${#raw} >= DIAG_MIN_VALUE_LENGTH)); then
        found+=("${raw}")
      fi
    done <"${file}"
  done
  ((${#found[@]} > 0)) || return 0
  mapfile -t DIAG_SECRET_VALUES < <(
    for value in "${found[@]}"; do
      printf '%s\t%s\n' "${#value}" "${value}"
    done | sort -t $'\t' -k1,1nr -u | cut -f2-
  )
}

# Prints TEXT with every loaded .env value and every credential-shaped text replaced.
diag_redact() {
  local text="$1"
  local value
  for value in "${DIAG_SECRET_VALUES[@]}"; do
    [[ -n "${value}" ]] && text="${text//"${value}"/${DIAG_REDACTED}}"
  done
  [[ -z "${text}" ]] && return 0
  printf '%s' "${text}" | diag_redact_patterns
}

# stdin -> stdout: credential shapes (the same families as SATURN's src/core/recover/redact.ts).
DIAG_PERL_REDACT="$(
  cat <<'PERL'
sub keep {
  my ($k, $s, $v, $after) = @_;
  my $bare = $v;
  $bare =~ s/^["']//;
  $bare =~ s/["']\z//;
  # Prose in an error message, not an assignment: "services.web.environment.X_TOKEN: required variable ...".
  return "$k$s$v" if $k =~ /\./ && $bare =~ /^[a-z]+\z/ && $after =~ /^ [a-z]/;
  return "$k$s$v" if $bare eq '' || $bare =~ /^\$\$?\{?[A-Za-z_][A-Za-z0-9_]*\}?\z/ || $bare =~ /^\[REDACTED\]/ || $bare =~ /^[|>][-+]?\z/ || $bare =~ /^[\[\{]/;
  return $v =~ /^(["'])/ ? "$k$s$1\[REDACTED]$1" : "$k$s\[REDACTED]";
}
local $/;
$_ = <STDIN>;
s/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)/[REDACTED]/gs;
s/\btskey-[A-Za-z0-9_-]+/[REDACTED]/g;
s/\b(Authorization[ \t]*[:=][ \t]*)(?:(Bearer|Basic|Token|Digest)[ \t]+)?[^\s"',]+/$1 . ($2 ? "$2 " : "") . "[REDACTED]"/gie;
s/\b(Bearer[ \t]+)[A-Za-z0-9._~+\/=-]{8,}/$1\[REDACTED]/gi;
s/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}/[REDACTED]/g;
s/\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b/[REDACTED]/g;
s/\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/[REDACTED]/g;
s/\b([a-z][a-z0-9+.-]*:\/\/[^\s:\/@]+:)[^\s@\/]+@/$1\[REDACTED]@/gi;
s/(["']?\b[A-Za-z0-9_.-]*(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|AUTH_?KEY|PRIVATE_?KEY|CREDENTIALS?)[A-Za-z0-9_.-]*["']?)([ \t]*[=:][ \t]*)("[^"\n]*"|'[^'\n]*'|[^\s"',;]+)/keep($1, $2, $3, substr($_, $+[0], 2))/gie;
print;
PERL
)"

diag_redact_patterns() {
  perl -e "${DIAG_PERL_REDACT}"
}

# --- findings ---------------------------------------------------------------------------------------

# diag_finding ID SEVERITY SUMMARY EVIDENCE HINT [SERVICE]: one record and one line for a person.
diag_finding() {
  local id="$1"
  local severity="$2"
  local summary
  local evidence
  local hint="$5"
  local service="${6:-}"
  summary="$(diag_redact "$3")"
  evidence="$(diag_redact "$4")"
  local -a fields=(id "${id}" severity "${severity}" summary "${summary}" evidence "${evidence}" hint "${hint}")
  [[ -n "${service}" ]] && fields+=(service "${service}")
  emit finding "${fields[@]}"
  case "${severity}" in
    fail) DIAG_FAILS=$((DIAG_FAILS + 1)) ;;
    warn) DIAG_WARNS=$((DIAG_WARNS + 1)) ;;
    *) DIAG_OKS=$((DIAG_OKS + 1)) ;;
  esac
  local tag
  tag="$(printf '%-4s' "${severity^^}")"
  log_info "[${tag}] ${id}${service:+ (${service})}: ${summary}"
  if [[ "${severity}" != ok && -n "${hint}" ]]; then
    log_info "       fix: ${hint}"
  fi
}

# --- bounded docker ---------------------------------------------------------------------------------

diag_remaining() {
  local left=$((DIAG_DEADLINE - EPOCHSECONDS))
  ((left < 0)) && left=0
  printf '%s' "${left}"
}

# docker with a per-call timeout inside the overall budget; 124 when out of time.
diag_docker() {
  local left
  left="$(diag_remaining)"
  ((left > 0)) || return 124
  local limit="${DIAGNOSE_DOCKER_TIMEOUT}"
  ((left < limit)) && limit="${left}"
  timeout -k 2 "${limit}" docker "$@"
}

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
  # Compare the 5-minute load to the core count, in hundredths, without floating point.
  local load100
  load100="$(awk -v l="${five}" 'BEGIN { printf "%d", l * 100 }')" || load100=0
  local evidence="load average ${one} ${five} ${fifteen} on ${cpus} CPU(s)"
  if ((load100 >= cpus * 300)); then
    diag_finding load fail "Load ${five} is far above ${cpus} CPU(s)" "${evidence}" \
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
  if [[ -f "${override}" ]]; then
    local text
    text="$(head -c 4000 -- "${override}" 2>/dev/null)" || text=""
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
    if ! diag_docker image inspect "${image}" >/dev/null 2>&1; then
      diag_finding service.image-missing fail "Image ${image} is not on the node" \
        "docker image inspect ${image}: no such image" \
        "Pull it: docker compose -p ${DIAG_NODE}_${service} pull (check the tag exists and the registry is reachable from the node)" "${service}"
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

# --- the stage --------------------------------------------------------------------------------------

# Fills DIAG_* from deploy.sh's globals when present, else from the environment and this file's place.
diag_init() {
  DIAG_ROOT="${ROOT:-${HOMELAB_ROOT:-/opt/homelab}}"
  DIAG_REPO="${REPO_DIR:-${REPO:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../../.." && pwd)}}"
  DIAG_LOGS="${LOG_DIR:-${DIAG_ROOT}/logs/deploy}"
  DIAG_NODE="${NODE:-${HOMELAB_NODE:-}}"
  DIAG_DEADLINE=$((EPOCHSECONDS + DIAGNOSE_BUDGET))
  DIAG_DOCKER_OK=0
  DIAG_FAILS=0
  DIAG_WARNS=0
  DIAG_OKS=0
  diag_load_secrets "${DIAG_ROOT}"
}

stage_diagnose() {
  diag_init
  log_info "checking ${DIAG_NODE:-this node} (root ${DIAG_ROOT}, checkout ${DIAG_REPO})"
  diag_check_docker
  diag_check_disks
  diag_check_memory
  diag_check_load
  diag_check_git
  diag_check_last_log
  if ! manifest_load "${MANIFEST_FILE:-${DIAG_REPO}/hosts/${DIAG_NODE}/node.manifest}"; then
    diag_finding manifest fail "The node manifest cannot be read: ${MANIFEST_ERROR}" "${MANIFEST_ERROR}" \
      "Run homelab manifest on SATURN, commit, then homelab run prepare --node ${DIAG_NODE}"
  fi
  diag_check_gpu
  local service
  for service in "${MANIFEST_SERVICES[@]}"; do
    diag_check_service "${service}"
  done
  if (($(diag_remaining) == 0)); then
    diag_finding diagnose.budget warn "Diagnose ran out of its ${DIAGNOSE_BUDGET}s budget; later docker checks were skipped" "" \
      "Docker is slow to answer: see the docker.daemon finding"
  fi
  log_info "${DIAG_FAILS} failing, ${DIAG_WARNS} warning(s), ${DIAG_OKS} ok"
  return 0
}

# --- standalone -------------------------------------------------------------------------------------

diag_usage() {
  printf 'Usage: diagnose.sh redact [--root DIR]   (stdin -> stdout, secrets of DIR/config/*/.env redacted)\n' >&2
}

diag_main() {
  local cmd="${1:-}"
  shift || true
  local root="${HOMELAB_ROOT:-/opt/homelab}"
  while (($# > 0)); do
    case "$1" in
      --root)
        root="${2:?--root needs a directory}"
        shift 2
        ;;
      *)
        diag_usage
        return 2
        ;;
    esac
  done
  case "${cmd}" in
    redact)
      diag_load_secrets "${root}"
      local text
      text="$(cat)"
      diag_redact "${text}"
      printf '\n'
      ;;
    *)
      diag_usage
      return 2
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -Eeuo pipefail
  trap 'printf "diagnose.sh: failed at line %s: %s\n" "${LINENO}" "${BASH_COMMAND}" >&2' ERR
  diag_main "$@"
fi
