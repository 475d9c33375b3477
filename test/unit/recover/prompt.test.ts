import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildPrompt,
  fenced,
  fillTemplate,
  type RecoverContext,
} from '../../../src/core/recover/prompt.js';
import { toScreen } from '../../../src/core/recover/redact.js';

const template = readFileSync(new URL('../../../prompts/recover-node.md', import.meta.url), 'utf8');

const ctx: RecoverContext = {
  homelab: 'mesh-lab',
  node: {
    name: 'solaria',
    role: 'gpu',
    tags: ['gpu', 'media'],
    services: ['jellyfin', 'ollama'],
    transport: 'tailscale-ssh',
    root: '/opt/homelab',
    repo: '/opt/homelab/repo',
  },
  failedStage: 'verify',
  failedStep: 'health',
  failedService: 'jellyfin',
  stageStatus: 'failed',
  targetCommit: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  knownGoodCommit: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  deployedCommit: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  headCommit: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  diff: 'diff --git a/hosts/solaria/jellyfin/docker-compose.yml\n-    image: jellyfin:10.8\n+    image: jellyfin:10.9\n',
  findings: [
    { id: 'load', severity: 'ok', summary: 'load 0.2', evidence: '', hint: '' },
    {
      id: 'service.unhealthy',
      severity: 'fail',
      service: 'jellyfin',
      summary: 'jellyfin is unhealthy',
      evidence: 'wget: 500\nline two',
      hint: 'look at the logs',
    },
  ],
  logExcerpt: '2026-11-29T15:51:29Z verify: health jellyfin failed',
  composeFiles: [
    {
      service: 'jellyfin',
      path: 'hosts/solaria/jellyfin/docker-compose.yml',
      text: 'services:\n  jellyfin:\n    environment:\n      - API_TOKEN=tok-live-123456\n',
    },
  ],
  generatedAt: '2026-11-29T16:00:00.000Z',
  notes: [],
};

describe('recover-node prompt', () => {
  it('fills every placeholder of the repo template', () => {
    const { text, unknown } = buildPrompt(template, ctx);
    expect(unknown).toEqual([]);
    expect(text).not.toMatch(/\{\{\s*[a-z_]+\s*\}\}/);
    expect(text).toContain('# Recover node `solaria` of homelab `mesh-lab`');
    expect(text).toContain('| tags | gpu, media |');
    expect(text).toContain('failed stage: **verify**');
    expect(text).toContain('target commit: `aaaaaaaaaaaa`');
    expect(text).toContain('last known-good commit: `bbbbbbbbbbbb`');
    expect(text).toContain('+    image: jellyfin:10.9');
    expect(text).toContain('/opt/homelab/repo/scripts/deploy/deploy.sh resume');
  });

  it('lists failing findings before ok ones, with evidence and hint', () => {
    const { text } = buildPrompt(template, ctx);
    const fail = text.indexOf('[fail] service.unhealthy (jellyfin)');
    const ok = text.indexOf('[ok] load');
    expect(fail).toBeGreaterThan(0);
    expect(ok).toBeGreaterThan(fail);
    expect(text).toContain('  - hint: look at the logs');
    expect(text).toContain('wget: 500\n    line two');
  });

  it('fills, and leaves redaction to the one boundary (toScreen) the caller applies once', () => {
    const { text } = buildPrompt(template, ctx);
    expect(text).toContain('API_TOKEN=tok-live-123456');
    const screened = toScreen(text);
    expect(screened).not.toContain('tok-live-123456');
    expect(screened).toContain('API_TOKEN=[REDACTED]');
  });

  it('keeps unknown placeholders visible and reports them', () => {
    expect(fillTemplate('a {{node}} {{nope}}', { node: 'x' })).toEqual({
      text: 'a x {{nope}}',
      unknown: ['nope'],
    });
  });

  it('fences text that itself contains backticks', () => {
    expect(fenced('a ``` b')).toBe('````\na ``` b\n````');
  });

  it('says (none) where nothing was gathered', () => {
    const { text } = buildPrompt(template, {
      ...ctx,
      diff: '',
      findings: [],
      composeFiles: [],
      logExcerpt: '',
    });
    expect(text).toContain('(none): no change below hosts/solaria/');
    expect(text).toMatch(/## Diagnose findings \(failing first\)\n\n\(none\)/);
  });
});

describe('recover-node prompt: what is fine', () => {
  it('lists ok findings without their evidence, except a host-local override', () => {
    const { text } = buildPrompt(template, {
      ...ctx,
      findings: [
        {
          id: 'disk.root',
          severity: 'ok',
          summary: 'root 20% used',
          evidence: '/ on /dev/vda: 20% used',
          hint: '',
        },
        {
          id: 'override.present',
          severity: 'ok',
          service: 'jellyfin',
          summary: 'override included',
          evidence: 'services:\n  jellyfin:\n    devices: [/dev/dri]',
          hint: '',
        },
      ],
    });
    expect(text).toContain('- [ok] disk.root: root 20% used');
    expect(text).not.toContain('/ on /dev/vda: 20% used');
    expect(text).toContain('devices: [/dev/dri]');
  });
});
