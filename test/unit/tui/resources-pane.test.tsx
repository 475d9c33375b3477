// The selected node's resources in the detail pane (the record of `deploy.sh resources`): one
// compact line, containers summed and the disks, inside 80x24; why when they could not be read.
import { render } from 'ink-testing-library';
import { describe, expect, test } from 'vitest';
import type { ResourcesEvent } from '../../../src/core/protocol/events.js';
import { parseNodeLine } from '../../../src/core/protocol/parse.js';
import {
  initialState,
  reducer,
  type Action,
  type AppState,
} from '../../../src/tui/state/reducer.js';
import { Screen } from '../../../src/tui/views/screen.js';
import { NODES, REPO, mixedProbes } from './fixtures.js';

const ANSI = /\x1b\[[0-9;]*m/g;

function record(): ResourcesEvent {
  const line = parseNodeLine(
    '@homelab/1 resources {"ts":1,"node":"x","containers":[' +
      '{"service":"web","container":"x_web-web-1","cpu_percent":12.5,"mem_usage":"1.5MiB","mem_limit":"7.6GiB","mem_percent":0.02},' +
      '{"service":"db","container":"x_db-db-1","cpu_percent":1.5,"mem_usage":"300MiB","mem_limit":"7.6GiB","mem_percent":3.9}],' +
      '"disks":[{"what":"docker","path":"/var/lib/docker","size_kb":104857600,"used_kb":26214400,"avail_kb":78643200},' +
      '{"what":"root","path":"/opt/homelab","size_kb":20971520,"used_kb":19922944,"avail_kb":1048576}],"error":""}',
  );
  if (line.kind !== 'event' || line.event.type !== 'resources') throw new Error('not parsed');
  return line.event;
}

function frame(extra: (selected: string) => Action[]): string {
  const base: Action[] = [
    { type: 'repo', repo: REPO },
    ...mixedProbes().map((probe): Action => ({ type: 'probe', probe })),
    { type: 'loaded' },
  ];
  const first: AppState = base.reduce(reducer, initialState({ homelab: 'mesh-lab', nodes: NODES }));
  const state = extra(first.selected).reduce(reducer, first);
  const r = render(
    <Screen
      state={state}
      cols={80}
      rows={24}
      readLog={() => ({ lines: [], total: 0 })}
      transport="ssh ×4"
    />,
  );
  const out = (r.lastFrame() ?? '').replace(ANSI, '');
  r.unmount();
  const lines = out.split('\n');
  expect(lines.length).toBeLessThanOrEqual(23);
  for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
  return out;
}

describe('resources in the detail pane', () => {
  test('containers summed and both disks on one line, at 80x24', () => {
    const out = frame((node) => [
      { type: 'resources', node, resources: { node, resources: record(), error: '', at: 1 } },
    ]);
    expect(out).toContain(
      'cpu 14% mem 302M in 2 containers · docker 25G/100G 25%, root 19G/20G 95%',
    );
  });

  test('why, when the node could not say', () => {
    const out = frame((node) => [
      {
        type: 'resources',
        node,
        resources: { node, resources: null, error: 'docker did not answer within 30 s', at: 1 },
      },
    ]);
    expect(out).toContain('resources: docker did not answer within 30 s');
  });

  test('nothing before the first read', () => {
    expect(frame(() => [])).not.toMatch(/in \d+ containers? ·/);
  });
});
