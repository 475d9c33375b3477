import { describe, expect, it } from 'vitest';
import { recoverInitFromRun } from '../../../src/tui/recover/host.js';
import type { RunView } from '../../../src/tui/state/reducer.js';

const run: RunView = {
  stage: 'resume',
  commit: 'abc',
  startedAt: 1,
  running: false,
  stages: [
    { stage: 'prepare', status: 'ok' },
    { stage: 'deploy', status: 'failed', error: 'compose up failed' },
  ],
  steps: [
    { stage: 'prepare', step: 'fetch', status: 'ok' },
    {
      stage: 'deploy',
      step: 'compose-up',
      status: 'fail',
      service: 'web',
      detail: 'port 8080 in use',
    },
  ],
  checks: [],
  findings: [],
  logPath: '/opt/homelab/logs/deploy/deploy_1.log',
};

describe('recoverInitFromRun', () => {
  it('takes the failed stage and step, their details as the excerpt, and the run log', () => {
    expect(recoverInitFromRun('mercury', run)).toEqual({
      node: 'mercury',
      failed: { stage: 'deploy', step: 'compose-up', service: 'web' },
      excerpt: 'step compose-up failed (web): port 8080 in use',
      logPath: '/opt/homelab/logs/deploy/deploy_1.log',
    });
  });

  it("starts empty without a run, and never points at a diagnose run's own log", () => {
    expect(recoverInitFromRun('venus', undefined)).toEqual({ node: 'venus' });
    const diag = recoverInitFromRun('venus', {
      ...run,
      stage: 'diagnose',
      stages: [],
      steps: [],
      findings: [
        {
          type: 'finding',
          ts: 1,
          id: 'load',
          severity: 'ok',
          summary: 'fine',
          evidence: '',
          hint: '',
        },
      ],
    });
    expect(diag.logPath).toBeUndefined();
    expect(diag.findings).toEqual([
      { id: 'load', severity: 'ok', summary: 'fine', evidence: '', hint: '' },
    ]);
  });
});
