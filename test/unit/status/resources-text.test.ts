// A node's resources in words (homelab status --resources, a line per node): sums, units, one
// disk when docker's data root and the node's root share a filesystem, what could not be read.
import { describe, expect, it } from 'vitest';
import type { ResourcesEvent } from '../../../src/core/protocol/events.js';
import {
  humanBytes,
  resourcesLines,
  resourcesText,
  topContainers,
} from '../../../src/core/status/resources.js';

const GiB = 1024 ** 3;
const rec = (over: Partial<ResourcesEvent> = {}): ResourcesEvent => ({
  type: 'resources',
  ts: 1,
  node: 'pluto',
  containers: [
    {
      service: 'web',
      container: 'pluto_web-web-1',
      cpuPercent: 12.25,
      memBytes: 45 * 1024 ** 2,
      memLimitBytes: 8 * GiB,
      memPercent: 0.5,
    },
    {
      service: 'db',
      container: 'pluto_db-db-1',
      cpuPercent: 0.5,
      memBytes: 1.5 * GiB,
      memLimitBytes: 8 * GiB,
      memPercent: 19,
    },
  ],
  disks: [
    {
      what: 'docker',
      path: '/var/lib/docker',
      sizeKb: 100 * 1024 ** 2,
      usedKb: 24 * 1024 ** 2,
      availKb: 76 * 1024 ** 2,
    },
    {
      what: 'root',
      path: '/opt/homelab',
      sizeKb: 20 * 1024 ** 2,
      usedKb: 19 * 1024 ** 2,
      availKb: 1024 ** 2,
    },
  ],
  error: '',
  ...over,
});

describe('resources in words', () => {
  it('sums the containers and names each disk', () => {
    expect(resourcesText({ node: 'pluto', resources: rec(), error: '' })).toBe(
      'cpu 13% mem 1.5G in 2 containers; docker 24G/100G 24%, root 19G/20G 95%',
    );
  });

  it('says one disk when both are the same filesystem', () => {
    const d = {
      what: 'docker' as const,
      path: '/var/lib/docker',
      sizeKb: 1000,
      usedKb: 10,
      availKb: 990,
    };
    const r = rec({ containers: [], disks: [d, { ...d, what: 'root', path: '/opt/homelab' }] });
    expect(resourcesText({ node: 'pluto', resources: r, error: '' })).toBe(
      'no containers run; disk 10K/1000K 1%',
    );
  });

  it('says what could not be read', () => {
    expect(
      resourcesLines([
        {
          node: 'pluto',
          resources: rec({ containers: [], disks: [], error: 'docker does not answer' }),
          error: '',
        },
        { node: 'mars', resources: null, error: 'ssh: connect refused' },
      ]),
    ).toEqual([
      'pluto: no containers run; (docker does not answer)',
      'mars: resources unknown: ssh: connect refused',
    ]);
  });

  it('lists the busiest containers first', () => {
    expect(topContainers(rec(), 1)).toEqual(['web 12.3% 45M']);
  });

  it('reads sizes in binary units', () => {
    expect(
      [0, 1023, 1536, 10 * 1024, 45 * 1024 ** 2, 1.5 * GiB, 3 * 1024 ** 4].map(humanBytes),
    ).toEqual(['0B', '1023B', '1.5K', '10K', '45M', '1.5G', '3.0T']);
  });
});
