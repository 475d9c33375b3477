// The guide printed after `node add` and `node bootstrap`: the order of the steps and the secrets.
import { describe, expect, it } from 'vitest';
import type { Inventory, NodeSpec } from '../../../src/core/inventory/model.js';
import type { BootstrapOutcome } from '../../../src/shell/onboarding/bootstrap.js';
import {
  nextStepsAfterAdd,
  nextStepsAfterBootstrap,
} from '../../../src/shell/onboarding/next-steps.js';

const node: NodeSpec = {
  name: 'vega',
  address: 'vega',
  role: 'storage',
  tags: [],
  transport: 'tailscale-ssh',
  user: 'homelab',
  root: '/opt/homelab',
  repo: '/opt/homelab/repo',
  wave: 1,
  ssh: { connectTimeout: 5 },
  services: [
    {
      name: 'nextcloud',
      secrets: ['POSTGRES_PASSWORD', 'ADMIN_PASSWORD'],
      checks: [],
      override: 'optional',
    },
    { name: 'web', secrets: [], checks: [], override: 'optional' },
  ],
};
const inventory: Inventory = {
  homelab: 'lab',
  git: { remote: 'ssh://git@saturn/homelab.git', branch: 'main' },
  nodes: [node],
};

describe('nextStepsAfterAdd', () => {
  it('goes commit and push, reach, bootstrap, secrets by name, then prepare, deploy, verify', () => {
    const text = nextStepsAfterAdd(
      inventory,
      node,
      [{ path: 'hosts/vega/web/docker-compose.yml', text: '', kind: 'starter', port: 8080 }],
      ['nextcloud'],
    ).join('\n');
    const order = [
      'git push',
      'tailscale up --ssh',
      'homelab node bootstrap vega',
      '/opt/homelab/config/nextcloud/.env on vega: POSTGRES_PASSWORD, ADMIN_PASSWORD',
      'homelab run prepare --node vega',
      'homelab run deploy --node vega',
      'homelab run verify --node vega',
    ];
    const at = order.map((s) => text.indexOf(s));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(text).toContain(
      'wrote hosts/vega/web/docker-compose.yml  (starter: a busybox page on 127.0.0.1:8080',
    );
    expect(text).toContain('kept  hosts/vega/nextcloud/docker-compose.yml (it already existed)');
  });
});

describe('nextStepsAfterBootstrap', () => {
  const outcome = (over: Partial<BootstrapOutcome>): BootstrapOutcome => ({
    node: 'vega',
    result: 'ok',
    exitCode: 0,
    steps: [],
    unchanged: false,
    missing: '',
    stderr: [],
    durationMs: 1,
    ...over,
  });

  it('lists the secrets the node still lacks before the stages', () => {
    const text = nextStepsAfterBootstrap(
      node,
      outcome({
        steps: [
          { step: 'layout', status: 'ok', detail: 'created', changed: true },
          {
            step: 'config',
            status: 'ok',
            detail:
              'created /opt/homelab/config/nextcloud with a README; secrets to place in /opt/homelab/config/nextcloud/.env: ADMIN_PASSWORD',
            changed: true,
            service: 'nextcloud',
          },
          { step: 'summary', status: 'ok', detail: 'bootstrapped', changed: true },
        ],
      }),
    ).join('\n');
    expect(text).toContain('vega is bootstrapped (2 change(s)).');
    expect(text).toContain(
      'secrets to place in /opt/homelab/config/nextcloud/.env: ADMIN_PASSWORD',
    );
    expect(text.indexOf('ADMIN_PASSWORD')).toBeLessThan(
      text.indexOf('homelab run prepare --node vega'),
    );
  });

  it('says when nothing changed', () => {
    expect(nextStepsAfterBootstrap(node, outcome({ unchanged: true }))[0]).toBe(
      'Nothing changed: vega was already bootstrapped.',
    );
  });
});
