#!/usr/bin/env bash
# The verify stage: every container of every assigned service running and healthy (waiting up to
# HOMELAB_VERIFY_TIMEOUT seconds for healthchecks), then each declared http/tcp check, with a
# result per service. Success records the checkout as the node's known-good commit.
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: http_status nap stage_verify tcp_open verify_containers_in
#   sets: TARGET VERIFY_DETAIL VERIFY_TIMEOUT
#   reads: MANIFEST_CHECKS MANIFEST_SERVICES NODE_CONTAINERS_ERROR NODE_PS_AT REF

num_env_to VERIFY_TIMEOUT HOMELAB_VERIFY_TIMEOUT 120 1 86400
readonly VERIFY_TIMEOUT

# Sleeps in the background so a signal is handled at once.
nap() {
  sleep "$1" 9>&- &
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
  code="$(timeout 5 bash 9>&- -c 'exec 3<>"/dev/tcp/$1/$2" && printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$3" "$1" >&3 && head -n 1 <&3' _ "${host}" "${port}" "${path}" 2>/dev/null | awk '{print $2}')" || true
  printf '%s' "${code:-000}"
}

tcp_open() {
  # shellcheck disable=SC2016 # $1 $2 expand in the inner bash
  timeout 3 bash 9>&- -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# verify_containers_in SVC LIST: the service's containers in LIST (node_containers_to's lines);
# sets VERIFY_DETAIL, returns 0 healthy, 1 failed, 2 still waiting.
VERIFY_DETAIL=""
verify_containers_in() {
  local project
  project_name_to project "$1"
  local p
  local name
  local state
  local health
  local waiting=""
  local bad=""
  local good=""
  while IFS=$'\t' read -r p name state health; do
    [[ -n "${name}" && "${p}" == "${project}" ]] || continue
    case "${state}:${health}" in
      running:healthy | running:none) good+="${good:+, }${name}" ;;
      running:starting | restarting:* | created:*) waiting+="${waiting:+, }${name} ${state}/${health}" ;;
      *) bad+="${bad:+, }${name} ${state}/${health}" ;;
    esac
  done <<<"$2"
  if [[ -z "${good}${waiting}${bad}" ]]; then
    VERIFY_DETAIL="no containers for project ${project}: run deploy"
    return 1
  fi
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

# shellcheck disable=SC2034 # TARGET is read by run.sh (current_stage, history)
stage_verify() {
  local head
  # read from .git (status.sh; git itself only when HEAD is not a plain sha there)
  repo_head_to head
  if [[ -n "${REF}" && "${head}" != "${REF}"* ]]; then
    step_fail checkout "" "the checkout is at ${head}, not ${REF}: run prepare and deploy of ${REF} first"
    return 1
  fi
  local was="${TARGET}"
  TARGET="${head}"
  # with_stage has written `verify running`; again only when the target it named was not the head
  [[ "${was}" == "${head}" ]] || ((DRY_RUN)) || cs_write verify running
  temp_files_clean
  checkout_clean_step checkout || return 1
  load_manifest_step || return $?
  local deployed
  state_get_to deployed deployed
  if [[ "${deployed}" != "${head}" ]]; then
    step_fail deployed "" "the checkout ${head} is not deployed (deployed: ${deployed:-nothing}): run deploy first"
    return 1
  fi
  local -A result=()
  local -A detail=()
  local svc
  local deadline=$((EPOCHSECONDS + VERIFY_TIMEOUT))
  local pending=${#MANIFEST_SERVICES[@]}
  local rc
  local list
  local lrc
  local since
  # One service: docker passes only its project's events (else this node's, read by the wait).
  local only=""
  ((${#MANIFEST_SERVICES[@]} != 1)) || project_name_to only "${MANIFEST_SERVICES[0]}"
  local round=0
  while ((pending > 0)); do
    pending=0
    # One `docker ps` per round for every service (the first round reads the run's listing when
    # nothing changed since deploy took it); then, while some are starting, wait for a container
    # event since this look (no polling: waiting costs no CPU on a busy node).
    ((round++ == 0)) || node_ps_forget
    since="${EPOCHREALTIME/,/.}"
    lrc=0
    node_containers_to list || lrc=$?
    # the events since the listing was taken (maybe by deploy, moments ago)
    ((lrc != 0)) || since="${NODE_PS_AT}"
    for svc in "${MANIFEST_SERVICES[@]}"; do
      [[ -z "${result["${svc}"]:-}" ]] || continue
      rc=0
      if timed_out "${lrc}"; then
        # docker hangs: every service fails now, not after VERIFY_TIMEOUT more seconds
        step_fail verify-service "${svc}" "${NODE_CONTAINERS_ERROR}"
        return 1
      elif ((lrc != 0)); then
        VERIFY_DETAIL="docker ps failed: ${NODE_CONTAINERS_ERROR}"
        rc=2
      else
        verify_containers_in "${svc}" "${list}" || rc=$?
      fi
      case "${rc}" in
        0) result["${svc}"]=ok ;;
        1) result["${svc}"]=fail ;;
        *)
          if ((EPOCHSECONDS >= deadline)); then
            result["${svc}"]=fail
            VERIFY_DETAIL="timed out after ${VERIFY_TIMEOUT}s: ${VERIFY_DETAIL}"
          else
            pending=$((pending + 1))
          fi
          ;;
      esac
      detail["${svc}"]="${VERIFY_DETAIL}"
    done
    ((pending > 0)) || break
    # Events wake the wait; the cap only bounds a look when none comes.
    local left=$((deadline - EPOCHSECONDS))
    ((left >= 1)) || left=1
    ((left <= 5)) || left=5
    if ((lrc != 0)) || ! container_event_wait "${since}" "${left}" "${only}"; then
      nap 0.5
    fi
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
    project_name_to project "${svc}"
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
  # What each container runs, kept with the commit: a rollback to it starts these digests.
  images_record_step "${head}" || return 1
  # Magic rollback (lib/watchdog.sh): known-good waits for SATURN's confirmation.
  if confirm_required "${head}"; then
    watchdog_arm "${head}"
    return 0
  fi
  state_set known_good "${head}"
  step_emit known-good ok "" "${head}"
  return 0
}
