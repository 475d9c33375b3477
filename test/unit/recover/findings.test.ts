import { describe, expect, it } from 'vitest';
import {
  countFindings,
  failedLogExcerpt,
  failedStepOf,
  failingServices,
  groupFindings,
  sortFindings,
  type Finding,
} from '../../../src/core/recover/findings.js';

const f = (id: string, severity: Finding['severity'], service?: string): Finding => ({
  id,
  severity,
  summary: `${id} summary`,
  evidence: '',
  hint: '',
  ...(service ? { service } : {}),
});

describe('findings', () => {
  const list = [
    f('disk.root', 'ok'),
    f('service.unhealthy', 'fail', 'web'),
    f('load', 'warn'),
    f('docker.daemon', 'ok'),
    f('secret.key-missing', 'fail', 'api'),
    f('git.dirty', 'fail'),
  ];

  it('sorts failing first, likely causes before consequences, then by service and id', () => {
    expect(sortFindings(list).map((x) => x.id)).toEqual([
      'secret.key-missing',
      'service.unhealthy',
      'git.dirty',
      'load',
      'docker.daemon',
      'disk.root',
    ]);
  });

  it('groups by severity in fail, warn, ok order and drops empty groups', () => {
    const groups = groupFindings(list);
    expect(groups.map((g) => [g.label, g.findings.length])).toEqual([
      ['Failing', 3],
      ['Warnings', 1],
      ['OK', 2],
    ]);
    expect(groupFindings([f('a', 'ok')]).map((g) => g.severity)).toEqual(['ok']);
  });

  it('counts and names failing services', () => {
    expect(countFindings(list)).toEqual({ fail: 3, warn: 1, ok: 2 });
    expect(failingServices(list)).toEqual(['api', 'web']);
    const mixed = [
      f('service.missing', 'fail', 'notes'),
      f('compose.config-invalid', 'fail', 'notes'),
      f('secret.file-missing', 'fail', 'notes'),
      f('deploy.failed-step', 'fail', 'notes'),
    ];
    expect(sortFindings(mixed).map((x) => x.id)).toEqual([
      'secret.file-missing',
      'compose.config-invalid',
      'service.missing',
      'deploy.failed-step',
    ]);
  });
});

describe('failed step', () => {
  it('reads stage, step and service from the deploy.failed-step finding', () => {
    const step = {
      id: 'deploy.failed-step',
      severity: 'fail' as const,
      summary: 'Last run failed at stage deploy, step compose-up, service web: up failed',
      evidence: 'line 1\nline 2',
      hint: '',
      service: 'web',
    };
    expect(failedStepOf([step])).toEqual({ stage: 'deploy', step: 'compose-up', service: 'web' });
    expect(failedLogExcerpt([step])).toBe('line 1\nline 2');
    expect(
      failedStepOf([{ ...step, summary: 'Last run failed at stage prepare, step fetch' }]),
    ).toEqual({ stage: 'prepare', step: 'fetch', service: 'web' });
    expect(failedStepOf([])).toBeUndefined();
    expect(failedLogExcerpt([])).toBe('');
  });
});
