// scripts/deploy/lib/protocol.sh and manifest.sh run by real bash: what emit prints is valid JSON
// that the TypeScript parser reads back byte for byte, and the documented manifest loads.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNodeLine } from '../../../src/core/protocol/parse.js';
import { REPO_ROOT } from '../../support/node-fixture.js';

const LIB = join(REPO_ROOT, 'scripts', 'deploy', 'lib');

function bash(script: string, args: readonly string[] = []): string {
  return execFileSync(
    'bash',
    [
      '-c',
      `set -Eeuo pipefail; source "${LIB}/protocol.sh"; source "${LIB}/manifest.sh"; ${script}`,
      'test',
      ...args,
    ],
    { encoding: 'utf8' },
  );
}

describe('lib/protocol.sh emit', () => {
  const nasty = [
    'plain',
    'quote " and backslash \\ and slash /',
    'new\nline\ttab\rcr',
    'ctl \u0001\u001f\u007f',
    'ünïcødé ✓ 日本',
    '$(rm -rf /) `x` ${HOME}',
    '',
  ];

  it.each(nasty)('a string field survives JSON: %j', (value) => {
    const out = bash('emit stage-end stage deploy result failed duration_ms:n 12 error "$1"', [
      value,
    ]);
    expect(out.endsWith('\n')).toBe(true);
    expect(out.split('\n')).toHaveLength(2);
    const line = parseNodeLine(out.trimEnd());
    expect(line.kind).toBe('event');
    expect(line.kind === 'event' && line.event).toMatchObject({
      type: 'stage-end',
      stage: 'deploy',
      result: 'failed',
      durationMs: 12,
      error: value,
    });
  });

  it('numbers, raw JSON and ts', () => {
    const out = bash(
      'emit status node n1 bootstrapped:j true lock:j "" n:n 42 bad:n 4x services:j "[]"',
    );
    const obj = JSON.parse(out.replace(/^@homelab\/1 status /, '')) as Record<string, unknown>;
    expect(obj).toMatchObject({
      node: 'n1',
      bootstrapped: true,
      lock: null,
      n: 42,
      bad: null,
      services: [],
    });
    expect(Math.abs((obj.ts as number) - Date.now())).toBeLessThan(5000);
  });

  it('log lines: ISO time, stage, message; warnings and errors on stderr', () => {
    const out = execFileSync(
      'bash',
      [
        '-c',
        `source "${LIB}/protocol.sh"; DEPLOY_STAGE_NAME=deploy; log_info hello; log_error bad 2>&1 >/dev/null | sed 's/^/ERR /'`,
      ],
      { encoding: 'utf8' },
    );
    expect(out).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ deploy: hello\nERR \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ deploy: error: bad\n$/,
    );
  });
});

describe('lib/manifest.sh manifest_load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homelab-manifest-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the example of docs/node-manifest.md', () => {
    const file = join(dir, 'node.manifest');
    writeFileSync(
      file,
      [
        '# Generated from inventory/topology.yaml by `homelab manifest`. Do not edit by hand.',
        'manifest\t1',
        'homelab\tmesh-lab',
        'node\tsolaria',
        'role\tgpu',
        'tags\tgpu,media',
        'wave\t1',
        'service\tjellyfin',
        'service\tollama',
        'secret\tjellyfin\tJELLYFIN_API_KEY',
        'secret\tjellyfin\tOTHER_KEY',
        'override\tollama\trequired',
        'check\tjellyfin\thttp\thttp://127.0.0.1:8096/health\t200',
        'check\tjellyfin\ttcp\t127.0.0.1\t8096',
        'future-record\tignored',
        '',
      ].join('\n'),
    );
    const out = bash(
      'manifest_load "$1"; printf "%s|%s|%s|%s\\n" "$NODE_NAME" "$NODE_ROLE" "$NODE_TAGS" "$NODE_WAVE"; printf "%s," "${MANIFEST_SERVICES[@]}"; echo; echo "${MANIFEST_SECRETS[jellyfin]}"; echo "${MANIFEST_OVERRIDE[ollama]}"; printf "%s\\n" "${MANIFEST_CHECKS[@]}"',
      [file],
    );
    expect(out).toBe(
      'solaria|gpu|gpu,media|1\njellyfin,ollama,\nJELLYFIN_API_KEY OTHER_KEY\nrequired\njellyfin\thttp\thttp://127.0.0.1:8096/health\t200\njellyfin\ttcp\t127.0.0.1\t8096\n',
    );
  });

  it.each([
    ['manifest\t2\nnode\tx\n', 'is not 1'],
    ['manifest\t1\nnode\tx\nservice\tBad_Name\n', "invalid service name 'Bad_Name'"],
    ['manifest\t1\nnode\tx\ncheck\tweb\tudp\th\t1\n', "unknown check kind 'udp'"],
  ])('rejects a bad manifest (%#)', (text, message) => {
    const file = join(dir, 'bad.manifest');
    writeFileSync(file, text);
    const out = bash('manifest_load "$1" && echo loaded || echo "$MANIFEST_ERROR"', [file]);
    expect(out).toContain(message);
    expect(out).toContain(file);
  });
});
