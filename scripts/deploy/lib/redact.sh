#!/usr/bin/env bash
# Redaction on the node, for everything deploy.sh logs or prints and for diagnose and the recover
# prompt: the values of every .env below <root>/config, and anything shaped like a token, key or
# password, are replaced before a text is written anywhere or leaves the node.
#
#   secrets_load ROOT    loads the values (kept only in SECRET_VALUES, never written), longest first
#   redact TEXT          prints TEXT redacted

REDACTED='[REDACTED]'
REDACT_MIN_LENGTH=3
SECRET_VALUES=()

secrets_load() {
  local root="$1"
  local file
  local line
  local value
  local raw
  local -a found=()
  SECRET_VALUES=()
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
      if ((${#value} >= REDACT_MIN_LENGTH)); then
        found+=("${value}")
      fi
      # The unquoted form too, in case the quotes were part of what a program printed.
      if [[ "${raw}" != "${value}" ]] && ((${#raw} >= REDACT_MIN_LENGTH)); then
        found+=("${raw}")
      fi
    done <"${file}"
  done
  ((${#found[@]} > 0)) || return 0
  mapfile -t SECRET_VALUES < <(
    for value in "${found[@]}"; do
      printf '%s\t%s\n' "${#value}" "${value}"
    done | sort -t $'\t' -k1,1nr -k2 -u | cut -f2-
  )
}

# Prints TEXT with every loaded .env value and every credential-shaped text replaced.
redact() {
  local text="$1"
  local value
  for value in "${SECRET_VALUES[@]}"; do
    [[ -n "${value}" ]] && text="${text//"${value}"/${REDACTED}}"
  done
  [[ -z "${text}" ]] && return 0
  printf '%s' "${text}" | redact_patterns
}

# stdin -> stdout: credential shapes (the same families as SATURN's src/core/recover/redact.ts).
REDACT_PERL="$(
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

redact_patterns() {
  perl -e "${REDACT_PERL}"
}
