// The `resources` record (deploy.sh resources): docker's memory figures read as bytes, disks kept
// only whole, a record without its arrays a log line.
import { describe, expect, it } from 'vitest';
import { parseNodeLine, sizeBytes } from '../../../src/core/protocol/parse.js';

const rec = (body: string): string => `@homelab/1 resources {"ts":1,${body}}`;

describe('the resources record', () => {
  it('reads containers and disks', () => {
    const line = parseNodeLine(
      rec(
        '"node":"pluto","containers":[{"service":"web","container":"pluto_web-web-1","cpu_percent":12.5,"mem_usage":"1.5MiB","mem_limit":"7.6GiB","mem_percent":0.02},{"service":"db","container":"x","cpu_percent":"--","mem_usage":"--","mem_limit":"","mem_percent":null}],' +
          '"disks":[{"what":"docker","path":"/var/lib/docker","size_kb":100,"used_kb":40,"avail_kb":60},{"what":"elsewhere","path":"/","size_kb":1,"used_kb":1,"avail_kb":0},{"what":"root","path":"/opt/homelab","size_kb":"x","used_kb":1,"avail_kb":1}],"error":""',
      ),
    );
    expect(line).toEqual({
      kind: 'event',
      event: {
        type: 'resources',
        ts: 1,
        node: 'pluto',
        containers: [
          {
            service: 'web',
            container: 'pluto_web-web-1',
            cpuPercent: 12.5,
            memBytes: 1572864,
            memLimitBytes: Math.round(7.6 * 1024 ** 3),
            memPercent: 0.02,
          },
          {
            service: 'db',
            container: 'x',
            cpuPercent: null,
            memBytes: null,
            memLimitBytes: null,
            memPercent: null,
          },
        ],
        disks: [{ what: 'docker', path: '/var/lib/docker', sizeKb: 100, usedKb: 40, availKb: 60 }],
        error: '',
      },
    });
  });

  it('is a log line without node, containers or disks', () => {
    for (const body of [
      '"containers":[],"disks":[]',
      '"node":"pluto","disks":[]',
      '"node":"pluto","containers":{},"disks":[]',
      '"node":"pluto","containers":[]',
    ])
      expect(parseNodeLine(rec(body)).kind, body).toBe('log');
  });

  it("reads docker's sizes", () => {
    const cases: Array<[unknown, number | null]> = [
      ['0B', 0],
      ['312KiB', 312 * 1024],
      ['1.5MiB', 1572864],
      ['2GiB', 2 * 1024 ** 3],
      ['1TiB', 1024 ** 4],
      ['10kB', 10_000],
      ['3.2MB', 3_200_000],
      ['1GB', 1e9],
      [' 7 MiB ', 7 * 1024 ** 2],
      ['--', null],
      ['', null],
      ['1.5', null],
      ['MiB', null],
      ['1.5XiB', null],
      [-1, null],
      [null, null],
    ];
    for (const [v, want] of cases) expect(sizeBytes(v), String(v)).toBe(want);
  });
});
