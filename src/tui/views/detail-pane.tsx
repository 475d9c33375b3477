// The selected node in detail: pipeline with results and durations, a failure and its way out,
// services and their containers, what the next stage would change, and the live log.
import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { NodeEntry } from '../state/reducer.js';
import { MARK, compactLogLine, duration, nextFor, pipeline, plural, wrapText } from './format.js';
import { confirmText, driftText } from '../../core/status/summary.js';
import { containersText, disksText } from '../../core/status/resources.js';
import { serviceImageLines } from '../../core/images/updates.js';

export interface LogView {
  readonly lines: readonly string[];
  /** Lines held for this node (bounded). */
  readonly total: number;
}

export interface DetailPaneProps {
  readonly entry: NodeEntry;
  readonly head: string;
  readonly log: LogView;
  readonly logScroll: number;
  readonly width: number;
  readonly height: number;
}

interface Failure {
  readonly title: string;
  readonly details: readonly string[];
}

/** What went wrong on the node, from this session's run or from its recorded state. */
export function failureOf(n: NodeEntry): Failure | null {
  const run = n.run;
  if (run && !run.running && run.outcome && run.outcome.result !== 'ok') {
    const failedStage = run.stages.find((s) => s.status === 'failed');
    const stage = failedStage?.stage ?? run.stage;
    const why = failedStage?.error || run.outcome.message || `exit ${run.outcome.exitCode ?? '?'}`;
    const details = [
      ...run.steps
        .filter((s) => s.status === 'fail')
        .map((s) => `${s.step}${s.service ? ` ${s.service}` : ''}: ${s.detail ?? 'failed'}`),
      ...run.checks
        .filter((c) => c.status === 'fail')
        .map((c) => `check ${c.service} ${c.check} ${c.target}: ${c.detail}`),
    ];
    return { title: `${stage} ${run.outcome.result}: ${why}`, details };
  }
  const st = n.probe?.reachable ? n.probe.status : undefined;
  if (!run && st && (st.stageStatus === 'failed' || st.stageStatus === 'interrupted')) {
    return { title: `${st.stage} ${st.stageStatus} (run ${st.run || '?'})`, details: [] };
  }
  return null;
}

function serviceLines(
  n: NodeEntry,
): Array<{ text: string; colour: 'green' | 'yellow' | 'red' | 'gray' | 'cyan' }> {
  const p = n.probe;
  if (!p) return [{ text: 'probing…', colour: 'gray' }];
  if (!p.reachable && p.reason === 'needs-check' && p.checkUrl)
    return [
      { text: 'Tailscale SSH check needed: open this URL, log in, then press C', colour: 'yellow' },
      { text: p.checkUrl, colour: 'cyan' },
      { text: 'c copies it (OSC 52); other nodes of the tailnet wait their turn', colour: 'gray' },
    ];
  if (!p.reachable && p.reason === 'needs-check')
    return [{ text: `needs check: ${p.message}`, colour: 'yellow' }];
  if (!p.reachable) return [{ text: `unreachable (${p.reason}): ${p.message}`, colour: 'red' }];
  if (!p.status.bootstrapped)
    return [{ text: 'not bootstrapped: no repo checkout on the node', colour: 'gray' }];
  const assigned = n.spec.services.map((s) => s.name);
  const known = new Map(p.status.services.map((s) => [s.name, s]));
  const names = [...assigned, ...[...known.keys()].filter((k) => !assigned.includes(k))];
  if (names.length === 0) return [{ text: 'no services assigned', colour: 'gray' }];
  return names.map((name) => {
    const s = known.get(name);
    if (!s) return { text: `${name}  not deployed`, colour: 'gray' };
    const ok = s.state === 'running' && (s.health === 'healthy' || s.health === 'none');
    const containers = s.containers
      .map(
        (c) =>
          `${c.name.replace(`${s.project}-`, '')}:${c.state}${c.health && c.health !== 'none' ? `/${c.health}` : ''}`,
      )
      .join(' ');
    return {
      text: `${name}  ${s.state}${s.health !== 'none' ? `/${s.health}` : ''}${containers ? `  ${containers}` : ''}`,
      colour: ok
        ? 'green'
        : s.state === 'missing' || s.state === 'stopped' || s.health === 'unhealthy'
          ? 'red'
          : 'yellow',
    };
  });
}

/** The way out of a failure: only keys that act on this node now. */
export function failureHint(n: NodeEntry): string {
  const st = n.probe?.reachable ? n.probe.status : undefined;
  const parts: string[] = [];
  if (st && (st.stageStatus === 'failed' || st.stageStatus === 'interrupted'))
    parts.push('fix the cause, then r resume');
  parts.push('g recover view', 'd diagnose');
  if (st?.knownGood && st.knownGood !== st.deployed) parts.push('b rollback');
  return `  ${parts.join(' · ')}`;
}

interface FixedRow {
  readonly key: string;
  readonly node: ReactNode;
  /** Lower stays longer when the pane is short. */
  readonly prio: number;
}

/** Keeps at most `height` rows, dropping the least important first; order kept. */
function fitRows(rows: FixedRow[], height: number): FixedRow[] {
  const kept = [...rows];
  while (kept.length > Math.max(0, height)) {
    let worst = 0;
    kept.forEach((r, i) => {
      if (r.prio >= (kept[worst]?.prio ?? 0)) worst = i;
    });
    kept.splice(worst, 1);
  }
  return kept;
}

/** The rows above the log, cut to the pane's height (the most important kept). */
function fixedRows(n: NodeEntry, head: string, width: number, height: number): FixedRow[] {
  const spec = n.spec;
  const next = nextFor(n, head);
  const cells = pipeline(n);
  const failure = failureOf(n);
  const services = serviceLines(n);
  const changes = n.changes;
  const role = spec.tags.length > 0 ? `${spec.role} [${spec.tags.join(',')}]` : spec.role;

  const fixed: FixedRow[] = [];
  fixed.push({
    prio: 0,
    key: 'title',
    node: (
      <Text wrap="truncate">
        <Text bold>{spec.name}</Text>
        <Text color="gray">{` · ${role} · ${spec.transport} ${spec.address} · wave ${spec.wave}`}</Text>
      </Text>
    ),
  });
  fixed.push({
    prio: 1,
    key: 'pipeline',
    node: (
      <Text wrap="truncate">
        {cells.map((c, i) => (
          <Text key={c.stage}>
            {i > 0 ? <Text color="gray"> → </Text> : null}
            <Text color={MARK[c.mark].colour}>{`${c.stage} ${MARK[c.mark].glyph}`}</Text>
            {c.durationMs !== undefined ? (
              <Text color="gray">{` ${duration(c.durationMs)}`}</Text>
            ) : null}
          </Text>
        ))}
        <Text color="gray">{'   next: '}</Text>
        {n.run?.running ? (
          <Text color="cyan">{`${n.run.stage} is running`}</Text>
        ) : (
          <Text color={next ? 'cyan' : 'green'}>
            {next ?? (n.probe?.reachable ? 'nothing (up to date)' : '-')}
          </Text>
        )}
      </Text>
    ),
  });
  if (failure) {
    fixed.push({
      prio: 0,
      key: 'fail',
      node: <Text color="red" wrap="truncate">{`✗ ${failure.title}`}</Text>,
    });
    for (const [i, d] of failure.details.slice(0, 2).entries()) {
      // The failing step's detail often holds a path or the fix: wrap it rather than cut it.
      for (const [j, part] of wrapText(`  ${d}`, width, 3).entries())
        fixed.push({
          prio: 3 + i + j,
          key: `fd${i}.${j}`,
          node: (
            <Text color="red" wrap="truncate">
              {part}
            </Text>
          ),
        });
    }
    fixed.push({
      prio: 1,
      key: 'fix',
      node: (
        <Text color="yellow" wrap="truncate">
          {failureHint(n)}
        </Text>
      ),
    });
  }
  const maxServices = servicesShown(services.length, height, fixed.length);
  for (const [i, s] of services.slice(0, maxServices).entries()) {
    fixed.push({
      prio: i === 0 ? 2 : 6,
      key: `svc${i}`,
      node: (
        <Text wrap="truncate">
          <Text color="gray">{i === 0 ? 'services ' : '         '}</Text>
          <Text color={s.colour}>{s.text}</Text>
        </Text>
      ),
    });
  }
  if (services.length > maxServices)
    fixed.push({
      prio: 2,
      key: 'svcmore',
      node: <Text color="gray">{`         … ${services.length - maxServices} more`}</Text>,
    });
  // Magic rollback: the node waits for SATURN's confirmation, or rolled back by itself (and its log).
  const st = n.probe?.reachable ? n.probe.status : undefined;
  const confirmLine = st
    ? confirmText({ confirm: st.confirm ?? null, run: st.run, node: n.spec.name })
    : undefined;
  if (confirmLine) {
    fixed.push({
      prio: 1,
      key: 'confirm',
      node: (
        <Text color="yellow" wrap="truncate">
          {confirmLine.replace(/; log: [^)]*\)$/, ')')}
        </Text>
      ),
    });
    if (st?.confirm?.state === 'rolled-back' && st.confirm.rollbackLog)
      fixed.push({
        prio: 3,
        key: 'confirmlog',
        node: <Text color="yellow" wrap="truncate">{`  log: ${st.confirm.rollbackLog}`}</Text>,
      });
  }
  // Drift (deploy.sh status): what runs is not what the deployed commit says, and the fix.
  const drift = n.probe?.reachable ? (n.probe.status.drift ?? []) : [];
  if (drift.length > 0) {
    const what = drift.map((d) => (d.service ? `${d.service} ${d.kind}` : 'checkout edited'));
    const whatText = [...new Set(what)].join(', ');
    fixed.push({
      prio: 1,
      key: 'drift',
      node: <Text color="yellow" wrap="truncate">{`drift: ${whatText}`}</Text>,
    });
    const first = drift[0];
    if (first) {
      fixed.push({
        prio: 3,
        key: 'driftd',
        node: <Text color="yellow" wrap="truncate">{`  ${driftText(first)}`}</Text>,
      });
      fixed.push({
        prio: 2,
        key: 'driftfix',
        node: <Text color="yellow" wrap="truncate">{`  fix: ${first.fix}`}</Text>,
      });
    }
  }
  // Resources (deploy.sh resources, read with a refresh at most every 30 s): one line.
  const res = n.resources;
  if (res) {
    const text = res.resources
      ? `${containersText(res.resources)} · ${disksText(res.resources)}${res.error ? ` (${res.error})` : ''}`
      : `resources: ${res.error}`;
    fixed.push({
      prio: 4,
      key: 'resources',
      node: (
        <Text dimColor wrap="truncate">
          {text}
        </Text>
      ),
    });
  }
  // Images against their tags in the registry (U reads them; u updates): per service.
  const imgs = n.images;
  if (imgs) {
    const lines = imgs.loading
      ? ['asking the registry…']
      : imgs.error
        ? [`could not ask: ${imgs.error}`]
        : serviceImageLines(imgs.images);
    for (const [i, text] of (lines.length > 0 ? lines : ['no images']).entries())
      fixed.push({
        prio: i === 0 ? 3 : 7,
        key: `img${i}`,
        node: (
          <Text wrap="truncate">
            <Text color="gray">{i === 0 ? 'images   ' : '         '}</Text>
            <Text color={/: update /.test(text) ? 'yellow' : imgs.error ? 'red' : 'gray'}>
              {text}
            </Text>
          </Text>
        ),
      });
  }
  fixed.push({
    prio: 4,
    key: 'changes',
    node: (
      <Text wrap="truncate">
        <Text color="gray">next stage will change: </Text>
        {changes === undefined ? (
          <Text color="gray">…</Text>
        ) : changes.length === 0 ? (
          <Text color="green">no service</Text>
        ) : (
          <Text color="yellow">{changes.join(', ')}</Text>
        )}
      </Text>
    ),
  });

  // The log's title row and at least one line when there is room.
  return fitRows(fixed, Math.max(1, height - 1));
}

export function DetailPane({ entry, head, log, logScroll, width, height }: DetailPaneProps) {
  const fixed = fixedRows(entry, head, width, height);
  const n = entry;
  const logHeight = Math.max(0, height - fixed.length - 1);
  const run = n.run;
  const logTitle = run ? `log: ${run.stage}${run.running ? ' (live)' : ''}` : 'log';
  const scrolled = logScroll > 0 ? ` ↑${logScroll}` : '';
  const title = `── ${logTitle} · ${plural(log.total, 'line')}${scrolled} `;
  return (
    <Box flexDirection="column" width={width} height={height}>
      {fixed.map((f) => (
        <Box key={f.key} height={1} width={width}>
          {f.node}
        </Box>
      ))}
      {height > fixed.length ? (
        <Text color="gray" wrap="truncate">
          {title + '─'.repeat(Math.max(0, width - title.length))}
        </Text>
      ) : null}
      {log.lines.length === 0 && logHeight > 0 ? (
        <Text color="gray" wrap="truncate">
          {run ? 'waiting for output…' : 'no stage run yet in this session'}
        </Text>
      ) : null}
      {(logHeight > 0 ? log.lines.slice(-logHeight) : []).map((l, i) => (
        <Box key={i} height={1} width={width}>
          <Text wrap="truncate">{compactLogLine(l) || ' '}</Text>
        </Box>
      ))}
    </Box>
  );
}

/** Service lines that fit while leaving the log at least 3 lines (or as many as there are). */
function servicesShown(count: number, height: number, fixed: number): number {
  const room = height - fixed - 2 - 3;
  if (count <= room) return count;
  return Math.max(1, room - 1);
}

/** Lines of the detail pane that are not log, so the root can ask the log store for the rest. */
export function detailLogHeight(entry: NodeEntry, height: number, width: number): number {
  return Math.max(0, height - fixedRows(entry, '', width, height).length - 1);
}
