#!/usr/bin/env bash
# Reads hosts/<node>/node.manifest (docs/node-manifest.md): TAB-separated records, `#` comments.
# manifest_load FILE sets NODE_NAME NODE_ROLE NODE_TAGS NODE_WAVE, MANIFEST_SERVICES (array),
# MANIFEST_SECRETS[svc]="K1 K2", MANIFEST_OVERRIDE[svc]=required and MANIFEST_CHECKS
# ("svc<TAB>kind<TAB>a<TAB>b"). Returns 1 with MANIFEST_ERROR set when the file is unusable.
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: manifest_has_service manifest_load valid_label
#   sets: MANIFEST_CHECKS MANIFEST_CONFIRM MANIFEST_CONFIRM_TIMEOUT MANIFEST_ERROR MANIFEST_HOMELAB
#     MANIFEST_OVERRIDE MANIFEST_SECRETS MANIFEST_SERVICES NODE_NAME NODE_ROLE NODE_TAGS NODE_WAVE
#   reads: -

NODE_NAME=""
NODE_ROLE=""
NODE_TAGS=""
NODE_WAVE=""
MANIFEST_HOMELAB=""
MANIFEST_ERROR=""
# `confirm<TAB>required<TAB>SECONDS`: verify waits for SATURN's confirmation (lib/watchdog.sh).
MANIFEST_CONFIRM=""
MANIFEST_CONFIRM_TIMEOUT=""
MANIFEST_SERVICES=()
MANIFEST_CHECKS=()
declare -A MANIFEST_SECRETS=()
declare -A MANIFEST_OVERRIDE=()

# shellcheck disable=SC2034 # sets globals that deploy.sh and the other libs read
manifest_load() {
  local file="$1"
  local line
  local lineno=0
  local version=""
  local -a f
  NODE_NAME=""
  NODE_ROLE=""
  NODE_TAGS=""
  NODE_WAVE=""
  MANIFEST_HOMELAB=""
  MANIFEST_ERROR=""
  MANIFEST_CONFIRM=""
  MANIFEST_CONFIRM_TIMEOUT=""
  MANIFEST_SERVICES=()
  MANIFEST_CHECKS=()
  MANIFEST_SECRETS=()
  MANIFEST_OVERRIDE=()
  if [[ ! -r "${file}" ]]; then
    MANIFEST_ERROR="${file}: no such manifest"
    return 1
  fi
  while IFS= read -r line || [[ -n "${line}" ]]; do
    lineno=$((lineno + 1))
    line="${line%$'\r'}"
    [[ -z "${line}" || "${line}" == \#* ]] && continue
    f=()
    IFS=$'\t' read -r -a f <<<"${line}"
    case "${f[0]}" in
      manifest) version="${f[1]:-}" ;;
      homelab) MANIFEST_HOMELAB="${f[1]:-}" ;;
      node) NODE_NAME="${f[1]:-}" ;;
      role) NODE_ROLE="${f[1]:-}" ;;
      tags) NODE_TAGS="${f[1]:-}" ;;
      wave) NODE_WAVE="${f[1]:-}" ;;
      service)
        if ! valid_label "${f[1]:-}"; then
          MANIFEST_ERROR="${file}:${lineno}: invalid service name '${f[1]:-}'"
          return 1
        fi
        MANIFEST_SERVICES+=("${f[1]}")
        ;;
      secret)
        if [[ -z "${f[1]:-}" || -z "${f[2]:-}" ]]; then
          MANIFEST_ERROR="${file}:${lineno}: secret needs a service and a key"
          return 1
        fi
        MANIFEST_SECRETS["${f[1]}"]="${MANIFEST_SECRETS["${f[1]}"]:-}${MANIFEST_SECRETS["${f[1]}"]:+ }${f[2]}"
        ;;
      override) MANIFEST_OVERRIDE["${f[1]:-}"]="${f[2]:-}" ;;
      confirm)
        MANIFEST_CONFIRM="${f[1]:-}"
        MANIFEST_CONFIRM_TIMEOUT="${f[2]:-}"
        ;;
      check)
        case "${f[2]:-}" in
          http | tcp) MANIFEST_CHECKS+=("${f[1]:-}"$'\t'"${f[2]}"$'\t'"${f[3]:-}"$'\t'"${f[4]:-}") ;;
          *)
            MANIFEST_ERROR="${file}:${lineno}: unknown check kind '${f[2]:-}'"
            return 1
            ;;
        esac
        ;;
      *) ;; # unknown records are ignored: newer manifests may add some
    esac
  done <"${file}"
  if [[ "${version}" != 1 ]]; then
    MANIFEST_ERROR="${file}: manifest version '${version}' is not 1"
    return 1
  fi
  return 0
}

# True when the name is a DNS label (lowercase, so it is also a valid compose project part).
valid_label() {
  [[ "$1" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]]
}

# True when the service is assigned by the loaded manifest.
manifest_has_service() {
  local want="$1"
  local s
  for s in "${MANIFEST_SERVICES[@]}"; do
    [[ "${s}" == "${want}" ]] && return 0
  done
  return 1
}
