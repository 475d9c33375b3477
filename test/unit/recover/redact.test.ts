import { describe, expect, it } from 'vitest';
import { redact, REDACTED, stripControls, toScreen } from '../../../src/core/recover/redact.js';
import { SECRET_SHAPES } from '../../support/secret-shapes.js';

describe('redact', () => {
  it.each(SECRET_SHAPES)('redacts a %s', (_name, text, secret) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });

  it('redacts a whole private key block, and an unterminated one to the end', () => {
    const key =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----';
    expect(redact(`before\n${key}\nafter`)).toBe(`before\n${REDACTED}\nafter`);
    expect(redact('x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK')).toBe(`x\n${REDACTED}`);
  });

  it('keeps references and compose structure readable', () => {
    const compose =
      'environment:\n  DB_PASSWORD: ${DB_PASSWORD}\nsecrets: [db]\nx_token: |\ncommand: echo token=$$WEB_TOKEN\n';
    expect(redact(compose)).toBe(compose);
    expect(redact(`PASSWORD=${REDACTED}`)).toBe(`PASSWORD=${REDACTED}`);
  });

  it('leaves ordinary log text alone', () => {
    const text =
      '2026-11-29T15:51:29Z deploy: compose up solaria_jellyfin (exit 1)\nhealthcheck: wget: server returned error: HTTP/1.1 500';
    expect(redact(text)).toBe(text);
  });
});

describe('toScreen: text from a node on its way to a screen', () => {
  it('strips OSC (clipboard write, title), CSI (screen clear, cursor, colour) and C0/C1 controls, keeps tab and newline', () => {
    const text =
      'a\x1b]52;c;ZXZpbA==\x07b\x1b]0;title\x1b\\c\x1b[2Jd\x1b[1;31me\x1b[0m\tf\ng\rh\x00i\x7fj\u009b2Jk\x1bPdcs\x1b\\l\x08m\x1bcn';
    expect(stripControls(text)).toBe('abcde\tf\nghijkl' + 'mn');
  });

  it('strips before it redacts, so no escape can split a token into two harmless halves', () => {
    expect(toScreen('key tsk\x1b[0mey-auth-kABCDEF0123456789 end')).toBe(`key ${REDACTED} end`);
    expect(toScreen('PASS\x1b[mWORD=hunter22')).toBe(`PASSWORD=${REDACTED}`);
  });

  it('an unterminated OSC at the end leaves nothing behind', () => {
    expect(stripControls('ok\x1b]52;c;AAAA')).toBe('ok');
  });
});

describe('redact: error messages', () => {
  it('keeps compose interpolation errors readable (a dotted path followed by prose is not an assignment)', () => {
    const text =
      'error while interpolating services.web.environment.NOTES_TOKEN: required variable NOTES_TOKEN is missing a value';
    expect(redact(text)).toBe(text);
    expect(redact('spring.datasource.password: hunter\n')).toBe(
      'spring.datasource.password: [REDACTED]\n',
    );
  });
});
