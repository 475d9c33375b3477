// The Tailscale SSH check banner and the host key failure of `tailscale ssh`, classified. Pure.
import { describe, expect, it } from 'vitest';
import {
  checkBannerUrl,
  classifyFailure,
  NOT_TAILSCALE_SSH,
} from '../../../src/core/remote/unreachable.js';

const URL = 'https://login.tailscale.com/a/1a2b3c4d5e6f7a8b';

describe('checkBannerUrl', () => {
  it.each([
    [
      'one line, as the issue quotes it',
      `Tailscale SSH requires an additional check. To authenticate, visit: ${URL}\n`,
    ],
    [
      'two lines with # prefixes',
      `# Tailscale SSH requires an additional check.\n# To authenticate, visit: ${URL}\n`,
    ],
    [
      'CRLF and an indented URL line',
      `Tailscale SSH requires an additional check.\r\nTo authenticate, visit:\r\n\r\n    ${URL}\r\n`,
    ],
    [
      'after other ssh chatter',
      `Warning: Permanently added\n# Tailscale SSH requires an additional check.\n# To authenticate, visit: ${URL}.\n`,
    ],
    [
      'a trailing full stop is not part of it',
      `Tailscale SSH requires an additional check. To authenticate, visit: ${URL}.`,
    ],
  ])('%s', (_what, stderr) => {
    expect(checkBannerUrl(stderr)).toBe(URL);
  });

  it.each([
    ['no banner', `To authenticate, visit: ${URL}\n`],
    ['banner without its URL yet', '# Tailscale SSH requires an additional check.\n'],
    [
      'a plain http URL',
      '# Tailscale SSH requires an additional check.\n# To authenticate, visit: http://login.tailscale.com/a/x\n',
    ],
    ['nothing', ''],
  ])('none: %s', (_what, stderr) => {
    expect(checkBannerUrl(stderr)).toBeUndefined();
  });

  it.each([
    ['an OSC 52 clipboard write after it', `${URL}\x1b]52;c;ZWNobyBwd25lZA==\x07`, URL],
    ['a colour sequence inside it', `https://login.tailscale.com/a/\x1b[31m1a2b3c4d5e6f7a8b`, URL],
    ['a title sequence before it', `\x1b]0;owned\x07${URL}`, URL],
    ['a quote and shell characters after it', `${URL}";rm -rf ~`, URL],
    ['a backspace (stripped: only its letters stay)', `${URL}\bX`, `${URL}X`],
  ])('hostile: %s', (_what, tail, expected) => {
    const url = checkBannerUrl(
      `# Tailscale SSH requires an additional check.\n# To authenticate, visit: ${tail}\n`,
    );
    expect(url).toBe(expected);
    expect(url).not.toMatch(/[\x00-\x1f\x7f"'`$;<> ]/);
  });
});

describe('host key checking through tailscale ssh', () => {
  const stderr =
    'No ED25519 host key is known for pluto.tail-lab.ts.net. and you have requested strict checking.\nHost key verification failed.\n';

  it('an unknown key through tailscale ssh: the node does not run Tailscale SSH', () => {
    const r = classifyFailure({ transport: 'tailscale-ssh', exitCode: 255, stderr });
    expect(r?.reason).toBe('host-key-unknown');
    expect(r?.message).toContain('pluto.tail-lab.ts.net.');
    expect(r?.message).toContain(
      'this node does not run Tailscale SSH: use `transport: ssh` to its tailnet address',
    );
    expect(NOT_TAILSCALE_SSH).toContain('transport: ssh');
  });

  it('the same failure over plain ssh keeps the known_hosts hint', () => {
    const r = classifyFailure({ transport: 'ssh', exitCode: 255, stderr });
    expect(r?.reason).toBe('host-key-unknown');
    expect(r?.message).not.toContain('Tailscale SSH');
  });

  it('a changed key through tailscale ssh is still a mismatch, not this', () => {
    const r = classifyFailure({
      transport: 'tailscale-ssh',
      exitCode: 255,
      stderr:
        '@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nHost key verification failed.\n',
    });
    expect(r?.reason).toBe('host-key-mismatch');
  });
});
