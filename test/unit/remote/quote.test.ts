import { describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from '../../../src/core/remote/quote.js';

describe('shellQuote', () => {
  it.each([
    ['', "''"],
    ['deploy.sh', 'deploy.sh'],
    ['/opt/homelab/repo/scripts/deploy/deploy.sh', '/opt/homelab/repo/scripts/deploy/deploy.sh'],
    ['--json', '--json'],
    ['user@host:22,a+b%c', 'user@host:22,a+b%c'],
    ['two words', "'two words'"],
    ["it's", "'it'\\''s'"],
    ["'", "''\\'''"],
    ['say "hi"', `'say "hi"'`],
    ['$(id -u)', "'$(id -u)'"],
    ['`id -u`', "'`id -u`'"],
    ['$HOME', "'$HOME'"],
    ['a; rm -rf /', "'a; rm -rf /'"],
    ['a && b || c | d > e < f &', "'a && b || c | d > e < f &'"],
    ['line one\nline two', "'line one\nline two'"],
    ['tab\there', "'tab\there'"],
    ['héllo ☃ 日本語', "'héllo ☃ 日本語'"],
    ['*', "'*'"],
    ['?', "'?'"],
    ['[a]', "'[a]'"],
    ['~', "'~'"],
    ['~root', "'~root'"],
    ['{a,b}', "'{a,b}'"],
    ['back\\slash', "'back\\slash'"],
    ['#comment', "'#comment'"],
    ['!', "'!'"],
    ['FOO=bar', "'FOO=bar'"],
    ['=cmd', "'=cmd'"],
    ['if', "'if'"],
    ['then', "'then'"],
    ['time', "'time'"],
    ['iffy', 'iffy'],
  ])('%j -> %s', (input, quoted) => {
    expect(shellQuote(input)).toBe(quoted);
  });

  it('refuses a NUL character, which no command line can carry', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});

describe('shellJoin', () => {
  it('quotes each argument and joins with single spaces', () => {
    expect(shellJoin(['deploy.sh', 'status', '--json'])).toBe('deploy.sh status --json');
    expect(shellJoin(['printf', '%s\\n', 'a b', '', "it's"])).toBe(
      "printf '%s\\n' 'a b' '' 'it'\\''s'",
    );
    expect(shellJoin([])).toBe('');
  });
});
