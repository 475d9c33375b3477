#!/usr/bin/env bash
# Images: pulls before deploy, the digests verify records as part of known-good, the pins a
# rollback starts, and `deploy.sh images` (what each service runs against what its tag points to
# in the registry now, asked without pulling). Credentials are the node's own `docker login`: the
# tool stores none.
#
# State: <state>/images/<commit>.tsv, written when verify's checks of that commit pass (the
# newest IMAGES_KEEP=5 are kept: known-good and the ones before it), one line per container: "service<TAB>compose service<TAB>image as configured<TAB>repo@digest ('' for an image
# built or imported on the node)<TAB>image id<TAB>image created (RFC 3339)".
# A rollback writes <state>/pins/<service>.yml from the known-good commit's file (compose `image: repo@digest` per compose
# service) and adds it as the last `-f` of that run only (PIN_IMAGES=1).
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: image_kind_to image_registry image_repo image_repo_to images_clean images_file
#     images_pin_write images_pull_step images_record_step images_records pin_file pin_file_to
#     pull_fix remote_manifest resume_pinned_deploy resume_pinned_verify running_images_to
#     service_images_to update_wanted
#   sets: IMAGES_KEEP IMAGE_SEEN PIN_IMAGES PLATFORM RUNNING_IMAGES_ERROR UPDATE_SERVICES
#   reads: COMPOSE_ARGS CONFIG_FROM CONFIG_IMAGES DOCKER_ERROR ENV MANIFEST_ERROR MANIFEST_FILE
#     MANIFEST_SERVICES NODE NODE_PS_ERROR STATE_DIR TARGET

# shellcheck disable=SC2034 # read by compose_args (lib/compose.sh)
PIN_IMAGES=0
# Services `deploy --update SVC` (or `--update all`) pulls and recreates when its image moved.
declare -a UPDATE_SERVICES=()

pin_file_to() {
  local -n _pf_out="$1"
  _pf_out="${STATE_DIR}/pins/$2.yml"
}
pin_file() {
  local f
  pin_file_to f "$1"
  printf '%s' "${f}"
}

update_wanted() {
  local s
  for s in "${UPDATE_SERVICES[@]}"; do
    [[ "${s}" == all || "${s}" == "$1" ]] && return 0
  done
  return 1
}

# The registry host of an image reference ("docker.io" when it names none).
image_registry() {
  local ref="$1"
  local first="${ref%%/*}"
  if [[ "${ref}" == */* && ("${first}" == *.* || "${first}" == *:* || "${first}" == localhost) ]]; then
    printf '%s' "${first}"
  else
    printf 'docker.io'
  fi
}

# The repository of a reference, without tag or digest (image_repo_to VAR REF: into VAR).
image_repo_to() {
  local -n _ir_out="$1"
  _ir_out="${2%@*}"
  [[ "${_ir_out##*/}" != *:* ]] || _ir_out="${_ir_out%:*}"
}
image_repo() {
  local repo
  image_repo_to repo "$1"
  printf '%s' "${repo}"
}

# shellcheck disable=SC2016 # the backquotes are the text of the message
# What to tell the operator about a failed pull of IMAGE given the registry's ERROR text.
pull_fix() {
  local image="$1"
  local err="$2"
  local host
  host="$(image_registry "${image}")"
  case "${err,,}" in
    *unauthorized* | *denied* | *"authentication required"* | *"no basic auth"*)
      printf 'log in on this node with `docker login %s` (the tool stores no registry credentials), then resume' "${host}"
      ;;
    *"manifest unknown"* | *"not found"* | *"does not exist"* | *"no such manifest"*)
      printf 'the registry %s has no %s: push it, or name an image that exists in the compose file, then resume' "${host}" "${image}"
      ;;
    *"connection refused"* | *"no such host"* | *timeout* | *"did not answer"* | *unreachable* | *"server misbehaving"*)
      printf 'the registry %s does not answer: start it or check this node'"'"'s network, then resume (the running containers were left alone)' "${host}"
      ;;
    *)
      printf 'check that this node can reach %s and pull %s by hand (`docker pull %s`), then resume' "${host}" "${image}" "${image}"
      ;;
  esac
}

# service_images_to VAR SVC: the images of the service as configured (`compose config --images`,
# one per line) into VAR: read from the `compose config` output this run hashed for the same
# compose arguments (CONFIG_IMAGES, lib/compose.sh), else asked of compose. Sets COMPOSE_ARGS.
service_images_to() {
  local -n _si_out="$1"
  compose_args "$2"
  if [[ -n "${CONFIG_IMAGES["$2"]+set}" && "${CONFIG_FROM["$2"]:-}" == "${COMPOSE_ARGS[*]}"$'\n'* ]]; then
    _si_out="${CONFIG_IMAGES["$2"]}"
    return 0
  fi
  _si_out="$(dk compose "${COMPOSE_ARGS[@]}" config --images 2>/dev/null)"
}

# What this run's image_kind_to read of an image, by id: "repo@digest ...<US>created" (the image
# record reuses it instead of asking docker again); emptied by a pull, which can add a digest.
declare -A IMAGE_SEEN=()

# image_kind_to VAR IMAGE: into VAR, missing (not on the node), local (on the node, never pulled:
# built or imported here, no registry digest), registry (pulled from or pushed to a registry).
image_kind_to() {
  local -n _ik_out="$1"
  local info
  if ! info="$(dk image inspect --format '{{.Id}}	{{range .RepoDigests}}{{.}} {{end}}	{{.Created}}' "$2" 2>/dev/null)"; then
    _ik_out=missing
    return 0
  fi
  local id
  local ds
  local c
  IFS=$'\x1f' read -r id ds c <<<"${info//$'\t'/$'\x1f'}"
  [[ "${id}" != sha256:* ]] || IMAGE_SEEN["${id}"]="${ds% }"$'\x1f'"${c}"
  if [[ -z "${ds// /}" ]]; then
    _ik_out=local
  else
    _ik_out=registry
  fi
}

# images_pull_step SVC: pulls the service's images before it is (re)created, each line of docker's
# progress in the log. An image on the node by digest (immutable) or built/imported here (no
# registry has it) is not pulled. A failed pull fails the step naming the image, the registry's
# error and the fix; returns 1 (nothing was started or stopped).
images_pull_step() {
  local svc="$1"
  local images
  local rc=0
  service_images_to images "${svc}" || rc=$?
  if ((rc != 0)); then
    step_fail pull "${svc}" "docker compose config --images failed for ${svc}"
    return 1
  fi
  local image
  local kind
  local t0
  local t1
  local line
  local last
  while IFS= read -r image; do
    [[ -n "${image}" ]] || continue
    image_kind_to kind "${image}"
    if [[ "${kind}" == local ]]; then
      step_emit pull skip "${svc}" "${image}: built or imported on this node (no registry has it)"
      continue
    fi
    if [[ "${kind}" == registry && "${image}" == *@sha256:* ]]; then
      step_emit pull skip "${svc}" "${image}: on the node (a digest never changes)"
      continue
    fi
    step_emit pull start "${svc}" "${image}"
    log_info "pull ${image}"
    IMAGE_SEEN=()
    now_ms_to t0
    last=""
    local prev=""
    while IFS= read -r line; do
      [[ -n "${line}" ]] || continue
      prev="${last}"
      last="${line}"
      [[ "${line}" == "pull-exit "* ]] || log_info "  pull ${image}: ${line}"
    done < <(dk_long pull "${image}" 2>&1 || printf 'pull-exit %s\n' "$?")
    if [[ "${last}" == "pull-exit "* ]]; then
      prev="$(redact "${prev:-exit ${last#pull-exit }}")"
      step_fail pull "${svc}" "docker pull ${image} failed: ${prev}: $(pull_fix "${image}" "${prev}")"
      return 1
    fi
    now_ms_to t1
    step_emit pull ok "${svc}" "${image}" "$((t1 - t0))"
  done <<<"${images}"
  return 0
}

# running_images_to VAR: the images the node's running containers run, lines "service<TAB>compose
# service<TAB>image as configured<TAB>repo@digest<TAB>image id<TAB>created", from the run's
# listing (node_ps_to: verify's last look) and two docker calls (inspect of the containers, then
# of their images). Returns the call's exit on failure.
RUNNING_IMAGES_ERROR=""
running_images_to() {
  local -n _ri_out="$1"
  _ri_out=""
  RUNNING_IMAGES_ERROR=""
  local ps
  node_ps_to ps || {
    RUNNING_IMAGES_ERROR="${NODE_PS_ERROR}"
    return 1
  }
  local -a ids=()
  local cid
  local p
  local _h
  local _n
  local st
  local _s
  # what `docker ps` lists without -a: running, paused and restarting containers
  while IFS=$'\037' read -r p cid _h _n st _s; do
    [[ "${p}" == "${NODE}_"* && "${st}" =~ ^(running|paused|restarting)$ ]] && ids+=("${cid}")
  done <<<"${ps}"
  ((${#ids[@]} > 0)) || return 0
  local _ri_rows
  _ri_rows="$(dk inspect --format '{{index .Config.Labels "com.docker.compose.project"}}	{{index .Config.Labels "com.docker.compose.service"}}	{{.Config.Image}}	{{.Image}}' "${ids[@]}" 2>&1)" || {
    RUNNING_IMAGES_ERROR="$(printf '%s' "${_ri_rows}" | tail -n 1)"
    return 1
  }
  local -A want=()
  local project
  local csvc
  local ref
  local id
  while IFS=$'\t' read -r project csvc ref id; do
    [[ "${project}" == "${NODE}_"* && -n "${id}" ]] && want["${id}"]=1
  done <<<"${_ri_rows}"
  ((${#want[@]} > 0)) || return 0
  local -A digests=()
  local -A created=()
  local ds
  local c
  # the images this run's deploy already read (no pull since): not asked again
  local -a ask=()
  for id in "${!want[@]}"; do
    if [[ -n "${IMAGE_SEEN["${id}"]+set}" ]]; then
      digests["${id}"]="${IMAGE_SEEN["${id}"]%%$'\x1f'*}"
      created["${id}"]="${IMAGE_SEEN["${id}"]#*$'\x1f'}"
    else
      ask+=("${id}")
    fi
  done
  local imgs=""
  if ((${#ask[@]} > 0)); then
    imgs="$(dk image inspect --format '{{.Id}}	{{range .RepoDigests}}{{.}} {{end}}	{{.Created}}' "${ask[@]}" 2>&1)" || {
      RUNNING_IMAGES_ERROR="$(printf '%s' "${imgs}" | tail -n 1)"
      return 1
    }
  fi
  # An image without registry digests (imported or built here) has an empty middle field.
  while IFS=$'\x1f' read -r id ds c; do
    [[ -n "${id}" ]] || continue
    digests["${id}"]="${ds% }"
    created["${id}"]="${c}"
  done <<<"${imgs//$'\t'/$'\x1f'}"
  local digest
  local d
  local repo
  while IFS=$'\t' read -r project csvc ref id; do
    [[ "${project}" == "${NODE}_"* && -n "${id}" ]] || continue
    digest=""
    if [[ "${ref}" == *@sha256:* ]]; then
      digest="${ref}"
    else
      image_repo_to repo "${ref}"
      # shellcheck disable=SC2086 # one digest per word
      for d in ${digests["${id}"]:-}; do
        [[ "${d%@*}" == "${repo}" || "${d%@*}" == "docker.io/library/${repo}" || "${d%@*}" == "docker.io/${repo}" ]] && digest="${d}"
      done
      [[ -n "${digest}" ]] || digest="${digests["${id}"]%% *}"
    fi
    _ri_out+="${project#"${NODE}_"}	${csvc}	${ref}	${digest}	${id}	${created["${id}"]:-}"$'\n'
  done <<<"${_ri_rows}"
  return 0
}

IMAGES_KEEP=5
images_file() { printf '%s/images/%s.tsv' "${STATE_DIR}" "$1"; }

# images_record_step COMMIT: verify's record of what each service runs (images/<commit>.tsv, one
# step record `image` per container). Part of known-good: a rollback starts exactly these digests.
images_record_step() {
  local commit="$1"
  local rows
  local rc=0
  running_images_to rows || rc=$?
  if ((rc != 0)); then
    step_fail images "" "reading the images the containers run failed: ${RUNNING_IMAGES_ERROR}"
    return 1
  fi
  local out=""
  local svc
  local csvc
  local ref
  local digest
  local id
  local created
  # A tab is IFS whitespace (runs of it collapse): the unit separator keeps an empty digest.
  while IFS=$'\x1f' read -r svc csvc ref digest id created; do
    [[ -n "${svc}" ]] || continue
    manifest_has_service "${svc}" || continue
    out+="${svc}	${csvc}	${ref}	${digest}	${id}	${created}"$'\n'
    step_emit image ok "${svc}" "${csvc} ${ref} ${digest:-${id}}"
  done <<<"${rows//$'\t'/$'\x1f'}"
  [[ -d "${STATE_DIR}/images" ]] || mkdir -p -- "${STATE_DIR}/images"
  atomic_write "${STATE_DIR}/images/${commit}.tsv" "${out}" || return 1
  local -a old=()
  local f
  # (no listing while there are no more than IMAGES_KEEP records)
  local -a all=("${STATE_DIR}/images/"*)
  if ((${#all[@]} > IMAGES_KEEP)); then
    # shellcheck disable=SC2012 # the names are commit shas
    while IFS= read -r f; do
      [[ -n "${f}" ]] && old+=("${f}")
    done < <(ls -1t -- "${STATE_DIR}/images" 2>/dev/null | tail -n +$((IMAGES_KEEP + 1)))
  fi
  for f in "${old[@]}"; do
    rm -f -- "${STATE_DIR}/images/${f}"
  done
  images_clean
  return 0
}

# images_clean: the tool's own cleanup, after verify recorded what runs. Removes the images of
# the repositories the node's services use that no kept images/<commit>.tsv names (the newest
# IMAGES_KEEP: known-good and the ones before it), by reference and never forced: an image a
# container uses stays. Never a blanket prune: other repositories are not looked at. Skipped when
# the kept images and their repositories are the ones the last cleanup kept (images.cleaned): a
# verify of the same images asks docker nothing. (An image of those repositories pulled by hand
# meanwhile goes at the next cleanup that runs.)
images_clean() {
  local -A keep=()
  local -A repos=()
  local f
  local text
  local svc csvc ref digest id created
  local repo
  for f in "${STATE_DIR}"/images/*.tsv; do
    [[ -f "${f}" ]] || continue
    state_read_to text "${f}"
    while IFS=$'\x1f' read -r svc csvc ref digest id created; do
      [[ -n "${id}" ]] || continue
      keep["${id}"]=1
      image_repo_to repo "${ref}"
      repos["${repo}"]=1
    done <<<"${text//$'\t'/$'\x1f'}"
  done
  local mark
  printf -v mark '%s\n' "${!keep[@]}" "--" "${!repos[@]}"
  mark="${mark%$'\n'}"
  local was
  state_read_to was "${STATE_DIR}/images.cleaned"
  [[ "${was}" != "${mark}" ]] || return 0
  local repo
  local rows
  local name
  local tag
  local dg
  local what
  for repo in "${!repos[@]}"; do
    rows="$(dk image ls --no-trunc --format '{{.ID}}	{{.Repository}}	{{.Tag}}	{{.Digest}}' "${repo}" 2>/dev/null)" || continue
    while IFS=$'\x1f' read -r id name tag dg; do
      [[ -n "${id}" && -z "${keep["${id}"]:-}" ]] || continue
      if [[ "${tag}" != "<none>" ]]; then
        what="${name}:${tag}"
      else
        what="${name}@${dg}"
      fi
      if dk image rm "${what}" >/dev/null 2>&1; then
        log_info "cleanup: removed ${what} (${id:7:12}), no kept known-good commit uses it"
      fi
    done <<<"${rows//$'\t'/$'\x1f'}"
  done
  cache_write "${STATE_DIR}/images.cleaned" '%s\n' "${mark}"
  return 0
}

# images_pin_write COMMIT: for a rollback, <state>/pins/<svc>.yml from images/<commit>.tsv (the
# known-good digests), so compose starts exactly those images even when their tags moved. Sets
# PIN_IMAGES=1. An image with no registry digest (built or imported on the node) is started by name.
images_pin_write() {
  local text=""
  local file
  file="$(images_file "$1")"
  if [[ -f "${file}" ]]; then
    text="$(<"${file}")"
  else
    log_warn "rollback: no image digests recorded for $1 (verified by an older deploy.sh): the images start by their tags"
  fi
  mkdir -p -- "${STATE_DIR}/pins"
  rm -f -- "${STATE_DIR}"/pins/*.yml
  local -A body=()
  local svc
  local csvc
  local ref
  local digest
  local _id
  local _created
  # A tab is IFS whitespace (runs of it collapse): the unit separator keeps an empty digest.
  while IFS=$'\x1f' read -r svc csvc ref digest _id _created; do
    [[ -n "${svc}" && -n "${csvc}" ]] || continue
    if [[ -z "${digest}" ]]; then
      log_info "rollback: ${svc}/${csvc} runs ${ref}, built or imported on this node: not pinned (no registry digest)"
      continue
    fi
    body["${svc}"]+="  ${csvc}:"$'\n'"    image: ${digest}"$'\n'
    log_info "rollback: ${svc}/${csvc} pinned to the known-good ${digest} (${ref} may point elsewhere now)"
    step_emit pin ok "${svc}" "${csvc} ${digest}"
  done <<<"${text//$'\t'/$'\x1f'}"
  for svc in "${!body[@]}"; do
    atomic_write "$(pin_file "${svc}")" "services:"$'\n'"${body["${svc}"]}" || return 1
  done
  PIN_IMAGES=1
  return 0
}

# A resumed rollback's first stage (current_stage kind=rollback, see run_resume): the known-good
# digests of TARGET pinned again (the pins of the killed run may be gone or half written), then
# the stage itself, so it starts exactly those digests even when the tags moved.
resume_pinned_deploy() {
  images_pin_write "${TARGET}"
  stage_deploy
}
resume_pinned_verify() {
  images_pin_write "${TARGET}"
  stage_verify
}

# The registry's current manifest for REF on this node's platform, without pulling (`docker
# manifest inspect -v`, the node's own docker login): prints "manifest digest<TAB>config digest"
# (the config digest is the image id the tag would run). --insecure only for a loopback registry.
remote_manifest() {
  local ref="$1"
  local platform="$2"
  local host
  host="$(image_registry "${ref}")"
  local -a opts=(-v)
  [[ "${host}" == 127.* || "${host}" == localhost* || "${host}" == "[::1]"* ]] && opts+=(--insecure)
  local out
  out="$(dk manifest inspect "${opts[@]}" "${ref}" 2>&1)" || {
    printf '%s' "${out}" | tail -n 1 >&2
    return 1
  }
  PLATFORM="${platform}" perl -MJSON::PP -MMIME::Base64 -e '
    local $/; my $j = eval { decode_json(<STDIN>) } or exit 3;
    my @l = ref $j eq "ARRAY" ? @$j : ($j);
    my ($os, $arch) = split m{/}, $ENV{PLATFORM};
    for my $m (@l) {
      my $p = $m->{Descriptor}{platform} // {};
      next if @l > 1 && (($p->{os} // "") ne $os || ($p->{architecture} // "") ne $arch);
      my $raw = eval { decode_json(decode_base64($m->{Raw} // "")) } // {};
      printf "%s	%s
", $m->{Descriptor}{digest} // "", $raw->{config}{digest} // "";
      exit 0;
    }
    exit 4;' <<<"${out}"
}

# `deploy.sh images`: read-only, no lock. One `image` record per container of the node's services:
# what runs (digest, id, created) and what its tag points to in the registry now (no pull).
images_records() {
  if ! manifest_load "${MANIFEST_FILE}"; then
    printf 'deploy.sh: %s\n' "${MANIFEST_ERROR}" >&2
    return 4
  fi
  if ! docker_check; then
    printf 'deploy.sh: %s\n' "${DOCKER_ERROR}" >&2
    return 1
  fi
  local platform
  platform="$(dk version --format '{{.Server.Os}}/{{.Server.Arch}}' 2>/dev/null)" || platform=linux/amd64
  local rows
  running_images_to rows || {
    printf 'deploy.sh: reading the running images failed: %s\n' "${RUNNING_IMAGES_ERROR}" >&2
    return 1
  }
  local svc
  local csvc
  local ref
  local digest
  local id
  local created
  local remote
  local rdigest
  local rid
  local status
  local detail
  local -A seen=()
  # A tab is IFS whitespace (runs of it collapse): the unit separator keeps an empty digest.
  while IFS=$'\x1f' read -r svc csvc ref digest id created; do
    [[ -n "${svc}" ]] || continue
    manifest_has_service "${svc}" || continue
    seen["${svc}"]=1
    rdigest=""
    rid=""
    detail=""
    if [[ "${ref}" == *@sha256:* ]]; then
      status=pinned
      detail="started by digest (a rollback): deploy again to follow the tag"
    elif [[ -z "${digest}" ]]; then
      status=local
      detail="built or imported on this node: no registry to ask"
    elif remote="$(remote_manifest "${ref}" "${platform}" 2>&1)"; then
      IFS=$'\t' read -r rdigest rid <<<"${remote}"
      if [[ "${rid}" == "${id}" ]]; then
        status=current
      else
        status=updatable
        detail="${ref} now points to ${rdigest}"
      fi
    else
      status=unknown
      detail="$(redact "$(printf '%s' "${remote}" | tail -n 1)")"
    fi
    emit image service "${svc}" container_service "${csvc}" ref "${ref}" digest "${digest}" id "${id}" \
      created "${created}" remote_digest "${rdigest}" remote_id "${rid}" status "${status}" detail "${detail}"
  done <<<"${rows//$'\t'/$'\x1f'}"
  for svc in "${MANIFEST_SERVICES[@]}"; do
    [[ -n "${seen["${svc}"]:-}" ]] && continue
    emit image service "${svc}" container_service "" ref "" digest "" id "" created "" remote_digest "" \
      remote_id "" status missing detail "no container runs: deploy first"
  done
  return 0
}
