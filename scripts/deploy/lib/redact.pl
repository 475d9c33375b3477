#!/usr/bin/perl
# The node's redaction engine, driven by lib/redact.sh (read that file first). Three modes:
#
#   redact.pl rules RULES.json     prints the shape rules as NUL-separated records
#                                  (name, flags, replace, pattern): JSON::PP is loaded once per run
#   redact.pl forms ROOT           prints, NUL-separated and longest first, every form of every secret
#                                  value the node holds: each <ROOT>/config/*/.env read the way Docker
#                                  Compose reads it, and each literal of a host-local override's
#                                  environment: (and of the env_file it names)
#   redact.pl redact MIN_PREFIX    stdin -> stdout; fd 3: the forms, fd 4: the rule records
#
# Nothing here ever prints a value except `forms`, whose output only lib/redact.sh reads (into memory).
use strict;
use warnings;

my $REDACTED = '[REDACTED]';
my $MIN_LENGTH = 3;

# --- .env as Docker Compose reads it (compose-go v2 dotenv, the parser of Compose 2.26) -----------
# Statements start at the first non-space; `#` starts a comment line; an optional `export `; a key
# of letters, digits, _ . - [ ]; `=` or `:`; spaces after it skipped. A value in single or double
# quotes runs to the matching unescaped quote (over newlines), `\x` inside is kept as `\x` but for
# the quote itself; double-quoted values then get Go's escapes (\n \t \" \\ \$ ...) and ${VAR}
# interpolation; single-quoted stay literal. Unquoted values run to the end of the line, lose a
# ` #` comment and trailing space, and are interpolated.

sub is_space { my ($c) = @_; return $c =~ /\A[ \t\x0b\x0c\r]\z/ || $c eq "\xc2\x85" || $c eq "\xc2\xa0"; }

# compose-go's expandEscapes: each `\X` through Go's strconv.Unquote, kept as written when that
# fails (so \u00c4 and \x41 stay literal; \0 and \o become a lone backslash, as in compose-go); `\$` becomes `$$` (a literal $ after interpolation).
my %GO_ESC = (o => '\\', 0 => '\\', a => "\a", b => "\b", f => "\f", n => "\n", r => "\r", t => "\t", v => "\x0b", '"' => '"', '\\' => '\\');

sub expand_escapes {
  my ($s) = @_;
  $s =~ s/\\([^\n])/$1 eq '$' ? '$$' : exists $GO_ESC{$1} ? $GO_ESC{$1} : "\\$1"/ge;
  return $s;
}

# ${VAR} ${VAR:-d} ${VAR-d} ${VAR:+a} ${VAR+a} ${VAR:?e} ${VAR?e} $VAR $$ ; lookups: the file so far, then the environment.
sub interpolate {
  my ($s, $vars) = @_;
  my $look = sub { my ($k) = @_; return exists $vars->{$k} ? $vars->{$k} : $ENV{$k}; };
  my $out = '';
  while (length $s) {
    if ($s =~ s/\A\$\$//) { $out .= '$'; next; }
    if ($s =~ s/\A\$\{([A-Za-z_][A-Za-z0-9_]*)\}//) { my $v = $look->($1); $out .= defined $v ? $v : ''; next; }
    if ($s =~ /\A\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-+?])/) {
      my ($name, $op) = ($1, $2);
      my $i = length($name) + 2 + length($op);
      my $depth = 1;
      my $j = $i;
      while ($j < length($s) && $depth > 0) {
        my $c = substr($s, $j, 1);
        $depth++ if $c eq '{';
        $depth-- if $c eq '}';
        $j++;
      }
      last if $depth > 0;
      my $arg = interpolate(substr($s, $i, $j - $i - 1), $vars);
      my $v = $look->($name);
      my $set = defined $v && ($op !~ /^:/ || $v ne '');
      if ($op =~ /-/) { $out .= $set ? $v : $arg; }
      elsif ($op =~ /\+/) { $out .= $set ? $arg : ''; }
      else { $out .= $set ? $v : ''; }
      $s = substr($s, $j);
      next;
    }
    if ($s =~ s/\A\$([A-Za-z_][A-Za-z0-9_]*)//) { my $v = $look->($1); $out .= defined $v ? $v : ''; next; }
    $s =~ s/\A(.[^\$]*)//s;
    $out .= $1;
  }
  return $out;
}

# Returns (values, raw texts, key -> value): what Compose gives each key, the raw text after `=`.
sub parse_env {
  my ($src) = @_;
  my %vars;
  my @values;
  my @raw;
  for (split /\n/, $src) {
    # The raw text of each assignment line, too: what a program that prints the line shows.
    next unless /\A\s*(?:export\s+)?[^\s=:#]+\s*[=:](.*)\z/;
    my $r = $1;
    $r =~ s/\A\s+|\s+\z//g;
    push @raw, $r;
    (my $bare = $r) =~ s/\A(["'])(.*)\1\z/$2/s;
    push @raw, $bare;
  }
  my $s = $src;
  while (1) {
    $s =~ s/\A\s+//;
    last if $s eq '';
    if ($s =~ /\A#/) { last unless $s =~ s/\A[^\n]*\n//; next; }
    $s =~ s/\Aexport[ \t\x0b\x0c\r]+//;
    # The key: up to = : or a newline (an inherited key: no value of its own in the file).
    unless ($s =~ s/\A([^=:\n]*)([=:\n]|\z)//) { last; }
    my ($key, $end) = ($1, $2);
    $key =~ s/\s+\z//;
    if ($key !~ /\A[\p{L}\p{N}_.\-\[\]A-Za-z0-9\x80-\xff]+\z/) {
      # Compose refuses the file here; keep what the rest of the line says, then go on.
      $s =~ s/\A[^\n]*//;
      next;
    }
    next if $end ne '=' && $end ne ':';
    $s =~ s/\A[ \t\x0b\x0c\r]+//;
    my $value;
    my $q = substr($s, 0, 1);
    if ($q eq '"' || $q eq "'") {
      my $chars = '';
      my $esc = 0;
      my $i;
      my $closed = 0;
      for ($i = 1; $i < length $s; $i++) {
        my $c = substr($s, $i, 1);
        if ($c ne $q) {
          if (!$esc && $c eq '\\') { $esc = 1; next; }
          if ($esc) { $esc = 0; $chars .= "\\$c"; next; }
          $chars .= $c;
          next;
        }
        if ($esc) { $esc = 0; $chars .= $c; next; }
        $closed = 1;
        last;
      }
      if (!$closed) { $s =~ s/\A[^\n]*//; next; }    # unterminated: Compose refuses the file
      $value = $q eq '"' ? interpolate(expand_escapes($chars), \%vars) : $chars;
      $s = substr($s, $i + 1);
    } else {
      $s =~ s/\A([^\n]*)//;
      $value = $1;
      $value =~ s/ #.*\z//s;
      $value =~ s/\s+\z//;
      $value = interpolate($value, \%vars);
    }
    $vars{$key} = $value;
    push @values, $value;
  }
  return (\@values, \@raw, \%vars);
}

# --- literals of a host-local override's environment: -------------------------------------------

sub yaml_escape {
  my ($e, $map) = @_;
  return $map->{$e} if exists $map->{$e};
  if ($e =~ /\A[xuU]([0-9A-Fa-f]+)\z/) { my $c = chr(hex($1)); utf8::encode($c); return $c; }
  return "\\$e";
}

sub yaml_scalar {
  my ($t) = @_;
  $t =~ s/\A\s+//;
  if ($t =~ /\A"((?:[^"\\]|\\.)*)"/s) {
    my $v = $1;
    my %yaml = (0 => "\0", a => "\a", b => "\b", t => "\t", "\t" => "\t", n => "\n", v => "\x0b", f => "\f", r => "\r", e => "\e", ' ' => ' ', '"' => '"', '/' => '/', '\\' => '\\');
    $v =~ s/\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/yaml_escape($1, \%yaml)/gse;
    return $v;
  }
  if ($t =~ /\A'((?:[^']|'')*)'/s) { (my $v = $1) =~ s/''/'/g; return $v; }
  $t =~ s/\s+#.*\z//s;
  $t =~ s/\s+\z//;
  return $t;
}

# Returns the literal values (before and after interpolation) and the env_file paths it names.
sub override_values {
  my ($text, $vars) = @_;
  my @values;
  my @env_files;
  my @lines = split /\n/, $text;
  for (my $i = 0; $i < @lines; $i++) {
    my $line = $lines[$i];
    $line =~ s/\r\z//;
    next unless $line =~ /\A(\s*)(-\s+)?(environment|env_file)\s*:\s*(.*)\z/;
    my ($ind, $kind, $rest) = (length($1) + length($2 // ''), $3, $4);
    $rest =~ s/\s+#.*\z//;
    my @items;
    if ($rest =~ /\A\{(.*)\}\s*\z/ || $rest =~ /\A\[(.*)\]\s*\z/) {
      push @items, map { [$_, ''] } split /,/, $1;
    } elsif ($rest ne '') {
      push @items, [$rest, ''] if $kind eq 'env_file';
    } else {
      while ($i + 1 < @lines) {
        my $next = $lines[$i + 1];
        $next =~ s/\r\z//;
        if ($next =~ /\A\s*(#.*)?\z/) { $i++; next; }
        $next =~ /\A(\s*)/;
        last if length($1) <= $ind;
        $i++;
        my $item = $next;
        # a block scalar: its more-indented lines are the value
        if ($item =~ /:\s*[|>][-+]?\s*\z/) {
          my $block = '';
          $item =~ /\A(\s*)/;
          my $mine = length $1;
          while ($i + 1 < @lines && ($lines[$i + 1] =~ /\A(\s*)\S/ ? length($1) > $mine : 1)) {
            $i++;
            (my $b = $lines[$i]) =~ s/\A\s+//;
            $block .= "$b\n";
          }
          push @values, $block, split /\n/, $block;
          next;
        }
        push @items, [$item, 'block'];
      }
    }
    for my $it (@items) {
      my ($t) = @$it;
      $t =~ s/\A\s*(?:-\s+)?//;
      if ($kind eq 'env_file') {
        $t =~ s/\A\s*path\s*:\s*//;
        my $p = yaml_scalar($t);
        push @env_files, $p if $p ne '';
        next;
      }
      my $v;
      if ($t =~ /\A["']/) {
        my $s = yaml_scalar($t);    # - "KEY=value"
        next unless $s =~ /\A[^=]+=(.*)\z/s;
        $v = $1;
      } elsif ($t =~ /\A(?:"[^"]*"|'[^']*'|[^\s:=#]+)\s*:(?:\s+|\z)(.*)\z/s) {
        $v = yaml_scalar($1);       # KEY: value
      } elsif ($t =~ /\A[^\s=]+=(.*)\z/s) {
        $v = $1;                    # - KEY=value (plain)
        $v =~ s/\s+#.*\z//;
        $v =~ s/\s+\z//;
      } else {
        next;
      }
      push @values, $v, interpolate($v, $vars);
    }
  }
  return (\@values, \@env_files);
}

# --- every form a value takes in Docker's, Compose's and Go's own output ---------------------------

sub utf8_runes {
  my ($bytes) = @_;
  my @r;
  while ($bytes =~ /\G(?:([\x00-\x7f])|([\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2})|(.))/gs) {
    if (defined $1) { push @r, [ord($1), $1, 0]; }
    elsif (defined $2) { my $s = $2; my $raw = $s; utf8::decode($s); push @r, [ord($s), $raw, 0]; }
    else { push @r, [ord($3), $3, 1]; }    # an invalid byte
  }
  return @r;
}

my %GO_SHORT = (7 => '\a', 8 => '\b', 12 => '\f', 10 => '\n', 13 => '\r', 9 => '\t', 11 => '\v', 34 => '\"', 92 => '\\\\');

sub go_rune_escape {
  my ($cp) = @_;
  return sprintf('\u%04x', $cp) if $cp < 0x10000;
  return sprintf('\U%08x', $cp);
}

# strconv.Quote / %q (ascii 0), strconv.QuoteToASCII / %+q (ascii 1), without the outer quotes.
sub go_quote {
  my ($v, $ascii) = @_;
  my $out = '';
  for my $r (utf8_runes($v)) {
    my ($cp, $raw, $bad) = @$r;
    if ($bad) { $out .= sprintf('\x%02x', $cp); next; }
    if (exists $GO_SHORT{$cp}) { $out .= $GO_SHORT{$cp}; next; }
    if ($cp < 0x20 || $cp == 0x7f) { $out .= sprintf('\x%02x', $cp); next; }
    if ($cp < 0x80) { $out .= $raw; next; }
    my $printable = !($cp < 0xa0 || $cp == 0xad || ($cp >= 0x2028 && $cp <= 0x2029) || ($cp >= 0xfff9 && $cp <= 0xfffb) || ($cp >= 0xe000 && $cp <= 0xf8ff) || $cp == 0xfeff);
    $out .= ($ascii || !$printable) ? go_rune_escape($cp) : $raw;
  }
  return $out;
}

# Go's time.quote (time.ParseDuration's errors) and similar: every non-ASCII byte as \xNN.
sub byte_quote {
  my ($v, $upper) = @_;
  my $fmt = $upper ? '\x%02X' : '\x%02x';
  my $out = '';
  for my $c (split //, $v) {
    my $o = ord $c;
    if ($c eq '"' || $c eq '\\') { $out .= "\\$c"; }
    elsif ($o < 0x20 || $o >= 0x7f) { $out .= sprintf($fmt, $o); }
    else { $out .= $c; }
  }
  return $out;
}

# JSON string bodies: Go's encoding/json (html 1: < > & as \u003c...), deploy.sh's own json_str
# (html 0), and the ASCII-only form (\u00c4) of other encoders.
sub json_quote {
  my ($v, $html, $ascii) = @_;
  my $out = '';
  my %short = (8 => '\b', 12 => '\f', 10 => '\n', 13 => '\r', 9 => '\t', 34 => '\"', 92 => '\\\\');
  for my $r (utf8_runes($v)) {
    my ($cp, $raw, $bad) = @$r;
    if ($bad) { $out .= $ascii ? '\ufffd' : "\xef\xbf\xbd"; next; }
    if (exists $short{$cp}) { $out .= $short{$cp}; next; }
    if ($cp < 0x20 || ($html && ($cp == 0x3c || $cp == 0x3e || $cp == 0x26)) || ($html && ($cp == 0x2028 || $cp == 0x2029))) {
      $out .= sprintf('\u%04x', $cp);
      next;
    }
    if ($cp >= 0x80 && $ascii) {
      if ($cp >= 0x10000) { my $c = $cp - 0x10000; $out .= sprintf('\u%04x\u%04x', 0xd800 + ($c >> 10), 0xdc00 + ($c & 0x3ff)); }
      else { $out .= sprintf('\u%04x', $cp); }
      next;
    }
    $out .= $raw;
  }
  return $out;
}

sub forms_of {
  my ($v) = @_;
  my @f = ($v);
  push @f, grep { length($_) >= $MIN_LENGTH } split /\r?\n/, $v if $v =~ /\n/;
  my @more;
  for my $x (@f) {
    my $q = go_quote($x, 0);
    push @more, $q, go_quote($x, 1), byte_quote($x, 0), byte_quote($x, 1),
      json_quote($x, 0, 0), json_quote($x, 1, 0), json_quote($x, 0, 1), json_quote($x, 1, 1),
      json_quote($q, 0, 0), json_quote($q, 1, 0), go_quote($q, 0), json_quote(byte_quote($x, 0), 0, 0);
  }
  return (@f, @more);
}

sub slurp {
  my ($path) = @_;
  open(my $fh, '<:raw', $path) or return undef;
  local $/;
  my $t = <$fh>;
  close $fh;
  return $t // '';
}

sub mode_forms {
  my ($root) = @_;
  my %seen;
  my @all;
  my $add = sub { for (@_) { next if !defined || length($_) < $MIN_LENGTH || $_ eq $REDACTED || $seen{$_}++; push @all, $_; } };
  for my $dir (sort glob("$root/config/*")) {
    next if -l $dir || !-d _;
    my $env = "$dir/.env";
    my $env_text = (-f $env ? slurp($env) : undef) // '';
    my ($values, $raw) = parse_env($env_text);
    $add->(map { forms_of($_) } @$values, @$raw);
    my $ovr = "$dir/docker-compose.override.yml";
    next unless -f $ovr;
    my $text = slurp($ovr);
    next unless defined $text;
    my ($ovalues, $files) = override_values($text, env_map($env_text));
    $add->(map { forms_of($_) } @$ovalues);
    for my $p (@$files) {
      $p = "$dir/$p" unless $p =~ m{\A/};
      next if -l $p || !-f _;
      my ($ev, $er) = parse_env(slurp($p) // '');
      $add->(map { forms_of($_) } @$ev, @$er);
    }
  }
  print join("\0", sort { length($b) <=> length($a) || $a cmp $b } @all), (@all ? "\0" : '');
}

# The key -> value map of a .env (for interpolating the override).
sub env_map {
  my (undef, undef, $vars) = parse_env($_[0]);
  return $vars;
}

# --- the rules -----------------------------------------------------------------------------------

sub mode_rules {
  my ($file) = @_;
  require JSON::PP;
  my $text = slurp($file);
  die "redact.pl: cannot read $file\n" unless defined $text;
  my $doc = JSON::PP->new->decode($text);
  my @out;
  for my $r (@{ $doc->{rules} }) {
    my $re = eval { qr/$r->{pattern}/ };
    die "redact.pl: rule $r->{name}: $@" unless $re;
    push @out, $r->{name}, $r->{flags}, $r->{replace}, $r->{pattern};
  }
  print join("\0", @out), "\0";
}

sub read_nul {
  my ($fd) = @_;
  open(my $fh, '<&=', $fd) or return ();
  binmode $fh;
  local $/;
  my $t = <$fh> // '';
  my @f = split /\0/, $t, -1;
  pop @f if @f && $f[-1] eq '';
  return @f;
}

sub expand_template {
  my ($tpl, @g) = @_;
  $tpl =~ s/\$([1-9])/defined $g[$1 - 1] ? $g[$1 - 1] : ''/ge;
  return $tpl;
}

# A cut (Docker keeps 4096 bytes of health output) leaves the head of a secret at the end of a line,
# or its tail at the start: redact any such part of at least $min bytes.
sub redact_cut_edges {
  my ($line, $min, $forms) = @_;
  for my $f (@$forms) {
    my $n = length $f;
    next if $n <= $min;
    # head of f at the end of the line (an ellipsis a cutter added may follow)
    my $body = $line;
    my $tail = '';
    $tail = $1 if $body =~ s/((?:\.\.\.|\xe2\x80\xa6)\s*)\z//;
    my $probe = substr($f, 0, $min);
    my $from = length($body) - $n + 1;
    $from = 0 if $from < 0;
    my $at = index($body, $probe, $from);
    while ($at >= 0) {
      my $rest = substr($body, $at);
      if (length($rest) < $n && substr($f, 0, length $rest) eq $rest) {
        $line = substr($body, 0, $at) . $REDACTED . $tail;
        last;
      }
      $at = index($body, $probe, $at + 1);
    }
    # tail of f at the start of the line
    my $lead = substr($f, $n - $min);
    my $pos = index($line, $lead);
    while ($pos >= 0 && $pos + $min < $n) {
      my $head = substr($line, 0, $pos + $min);
      if (substr($f, $n - length $head) eq $head) {
        $line = $REDACTED . substr($line, $pos + $min);
        last;
      }
      $pos = index($line, $lead, $pos + 1);
    }
  }
  return $line;
}

sub mode_redact {
  my ($min) = @_;
  my @forms = grep { length } read_nul(3);
  my @rules = read_nul(4);
  binmode STDIN;
  binmode STDOUT;
  local $/;
  my $text = <STDIN> // '';
  if (@forms) {
    my $alt = join '|', map { quotemeta } @forms;
    $text =~ s/(?:$alt)/$REDACTED/g;
    $text = join "\n", map { redact_cut_edges($_, $min, \@forms) } split /\n/, $text, -1;
  }
  while (@rules >= 4) {
    my ($name, $flags, $replace, $pattern) = splice @rules, 0, 4;
    my $re = $flags =~ /i/ ? qr/$pattern/i : qr/$pattern/;
    $text =~ s/$re/expand_template($replace, @{^CAPTURE})/ge;
  }
  print $text;
}

# A stream (a service's logs, followed): the same replacements as mode_redact, line by line, each
# line written at once. A line is redacted whole: a secret never straddles a write.
sub mode_stream {
  my ($min) = @_;
  my @forms = grep { length } read_nul(3);
  my @spec = read_nul(4);
  my @rules;
  while (@spec >= 4) {
    my ($name, $flags, $replace, $pattern) = splice @spec, 0, 4;
    push @rules, [$flags =~ /i/ ? qr/$pattern/i : qr/$pattern/, $replace];
  }
  my $alt = @forms ? join('|', map { quotemeta } @forms) : undef;
  my $forms_re = defined $alt ? qr/(?:$alt)/ : undef;
  binmode STDIN;
  binmode STDOUT;
  $| = 1;
  # A private key spans lines: from its BEGIN line to its END line every line is replaced whole.
  my $in_key = 0;
  while (my $line = <STDIN>) {
    my $nl = $line =~ s/\n\z// ? "\n" : '';
    if ($in_key || $line =~ /-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----/) {
      $in_key = $line !~ /-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----/;
      print $REDACTED, $nl;
      next;
    }
    if ($forms_re) {
      $line =~ s/$forms_re/$REDACTED/g;
      $line = redact_cut_edges($line, $min, \@forms);
    }
    for my $r (@rules) {
      my ($re, $replace) = @$r;
      $line =~ s/$re/expand_template($replace, @{^CAPTURE})/ge;
    }
    print $line, $nl;
  }
}

# For the tests: a .env's key -> value map as this parser reads it, NUL-separated key, value pairs.
sub mode_env {
  my ($file) = @_;
  my (undef, undef, $vars) = parse_env(slurp($file) // '');
  print map { "$_\0$vars->{$_}\0" } sort keys %$vars;
}

my $mode = shift @ARGV // '';
if ($mode eq 'forms') { mode_forms(@ARGV); }
elsif ($mode eq 'env') { mode_env(@ARGV); }
elsif ($mode eq 'rules') { mode_rules(@ARGV); }
elsif ($mode eq 'redact') { mode_redact(@ARGV); }
elsif ($mode eq 'stream') { mode_stream(@ARGV); }
else { die "usage: redact.pl forms ROOT | rules FILE | redact MIN_PREFIX\n"; }
