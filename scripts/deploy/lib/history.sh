#!/usr/bin/env bash
# `deploy.sh history`: the node's stage history (<state>/history, written by run.sh history_add)
# as protocol records, oldest first: one `history` record per line (docs/protocol.md). Read-only,
# no lock. A line is `when<TAB>run<TAB>stage<TAB>result<TAB>commit[<TAB>duration_ms<TAB>by]`
# (the last two are absent from lines older nodes wrote).
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: history_records
#   sets: -
#   reads: NODE SETUP_ERROR STATE_BAD STATE_CHECK_ERROR STATE_DIR

history_records() {
  root_check
  if [[ -n "${SETUP_ERROR}" ]]; then
    printf 'deploy.sh: %s\n' "${SETUP_ERROR}" >&2
    exit 1
  fi
  local file="${STATE_DIR}/history"
  if ! state_check && [[ -n "${STATE_BAD[history]:-}" ]]; then
    printf 'deploy.sh: %s\n' "${STATE_CHECK_ERROR}" >&2
    exit 1
  fi
  [[ -f "${file}" ]] || return 0
  local when
  local run
  local stage
  local result
  local commit
  local dur
  local by
  while IFS=$'\t' read -r when run stage result commit dur by; do
    [[ -n "${when}" && -n "${run}" && -n "${stage}" ]] || continue
    emit history node "${NODE}" when "${when}" run "${run}" stage "${stage}" result "${result}" \
      commit "${commit}" duration_ms:n "${dur}" by "${by}"
  done <"${file}"
  return 0
}
