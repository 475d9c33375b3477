#!/usr/bin/env bash
# Dry run as one decision. A stage (lib/stages.sh) runs every step that changes the node through
# `act`, and a check whose failure stops a real run through `stop_or_plan`; these two are where the
# stages ask whether the run is a dry run (the state writers in run.sh and drift_record keep their own
# guard). A dry run goes through the same steps and prints the plan: `dry-run: would run: ...` log
# lines and a `skip` step record for what a real run would do.
#
# Interface (test/unit/house-bash-interfaces.test.ts keeps it true: what this file defines,
# the globals it sets, the globals and environment it reads from elsewhere):
#   provides: act say_dry stop_or_plan
#   sets: -
#   reads: -

say_dry() {
  log_info "dry-run: would run: $*"
}

# act [--skip STEP SERVICE DETAIL] [--would LINE]... [--note TEXT] [-- FUNCTION ARGS...]
# A real run calls FUNCTION ARGS (the step that changes the node; it reports its own records) and
# returns its status; with no FUNCTION it does nothing. A dry run runs nothing: it logs
# `dry-run: would run: LINE` for each --would, records STEP skip SERVICE DETAIL when --skip is
# given, logs `dry-run: TEXT` for a non-empty --note, and returns 0. (Its locals are _act_*: FUNCTION
# sees them, bash's scoping being dynamic.)
act() {
  local -a _act_would=()
  local -a _act_skip=()
  local _act_note=""
  while (($#)); do
    case "$1" in
      --skip)
        _act_skip=("$2" "$3" "$4")
        shift 4
        ;;
      --would)
        _act_would+=("$2")
        shift 2
        ;;
      --note)
        _act_note="$2"
        shift 2
        ;;
      --)
        shift
        break
        ;;
      *)
        log_error "act: unknown option $1"
        return 2
        ;;
    esac
  done
  if ((!DRY_RUN)); then
    (($# > 0)) || return 0
    # a plain call: errexit holds inside FUNCTION as it would in the stage body
    "$@"
    return
  fi
  local _act_line
  for _act_line in "${_act_would[@]}"; do
    say_dry "${_act_line}"
  done
  ((${#_act_skip[@]} == 0)) || step_emit "${_act_skip[0]}" skip "${_act_skip[1]}" "${_act_skip[2]}"
  [[ -z "${_act_note}" ]] || log_info "dry-run: ${_act_note}"
  return 0
}

# stop_or_plan STEP DETAIL: a check failed that a real run stops on. A real run fails STEP with
# DETAIL and returns 1; a dry run warns that a real run stops here, records STEP skip and returns
# 0, so the plan goes on.
stop_or_plan() {
  local step="$1"
  local detail="$2"
  if ((DRY_RUN)); then
    log_warn "dry-run: ${detail}; a real run stops here"
    step_emit "${step}" skip "" "dry-run: ${detail}"
    return 0
  fi
  step_fail "${step}" "" "${detail}"
  return 1
}
