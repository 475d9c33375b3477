import { describe, expect, it } from 'vitest';
import { countFindings, failedLogExcerpt, failedStepOf, failingServices, groupFindings, sortFindings, type Finding } from '../../../src/core/recover/findings.js';

const f = (id: string, severity: Finding['severity'], service?: string): Finding => ({
  id,
  severity,
  summary: `${id} summary`,
  evidence: '',
  hint: '',
  ...(service ? { service } : {}),
});

describe('findings', () => {
  const list = [f('disk.root', 'ok'), f('service.unhealthy', 'fail', 'web'), f('load', 'warn'), f('docker.daemon', 'ok'), f('secret.missing-key', 'fail', 'api'), f('git.dirty', 'fail')];

  it('sorts failing first, node-wide before services, then by id', () => {
    expect(sortFindings(list).map((x) => x.id)).toEqual(['git.dirty', 'secret.missing-key', 'service.unhealthy', 'load', 'disk.root', 'docker.daemon']);
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
  });
});

describe('failed step', () => {
  it('reads stage, step and service from the deploy.failed-step finding', () => {
    const step = { id: 'deploy.failed-step', severity: 'fail' as const, summary: 'Last run failed at stage deploy, step compose-up, service web: up failed', evidence: 'line 1\nline 2', hint: '', service: 'web' };
    expect(failedStepOf([step])).toEqual({ stage: 'deploy', step: 'compose-up', service: 'web' });
    expect(failedLogExcerpt([step])).toBe('line 1\nline 2');
    expect(failedStepOf([{ ...step, summary: 'Last run failed at stage prepare, step fetch' }])).toEqual({ stage: 'prepare', step: 'fetch', service: 'web' });
    expect(failedStepOf([])).toBeUndefined();
    expect(failedLogExcerpt([])).toBe('');
  });
});
