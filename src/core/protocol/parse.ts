// The node protocol parser (docs/protocol.md): one line of deploy.sh output -> a typed record or a
// log line. Pure. Lines that are not records of version 1 with a known event and the fields it
// needs are log lines: the node may add events and fields without breaking SATURN.
import type {
  CheckEvent,
  ContainerResources,
  ConfirmEvent,
  ConfirmState,
  ContainerStatus,
  DiskUsage,
  DriftItem,
  FindingEvent,
  HistoryEvent,
  ImageEvent,
  LockHolder,
  NodeEvent,
  NodeLine,
  NodeStatusRecord,
  ResourcesEvent,
  RunEndEvent,
  RunEvent,
  ServiceImage,
  ServiceStatus,
  Severity,
  Stage,
  StageEndEvent,
  StageStartEvent,
  StageStatus,
  StatusEvent,
  StepEvent,
  StepStatus,
} from './events.js';
import { PROTOCOL_VERSION, STAGES } from './events.js';

const IMAGE_STATUSES = ['current', 'updatable', 'pinned', 'local', 'unknown', 'missing'] as const;

const PREFIX = '@homelab/';
const RECORD = /^@homelab\/(\d+) ([a-z][a-z0-9-]*) (\{.*\})\s*$/;

type Json = Record<string, unknown>;

/** Parses one line (without its newline). Never throws. */
export function parseNodeLine(line: string): NodeLine {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  const event = text.startsWith(PREFIX) ? parseRecord(text) : undefined;
  return event ? { kind: 'event', event } : { kind: 'log', text };
}

/** The record of a protocol line, or undefined when it is a log line (or a record we do not know). */
export function parseRecord(text: string): NodeEvent | undefined {
  const m = RECORD.exec(text);
  if (!m || Number(m[1]) !== PROTOCOL_VERSION) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(m[3] ?? '');
  } catch {
    return undefined;
  }
  if (!isObject(obj)) return undefined;
  const ts = num(obj.ts);
  if (ts === undefined) return undefined;
  const build = builders[m[2] ?? ''];
  return build ? build(obj, ts) : undefined;
}

export interface LineParser {
  /** Feeds a chunk of output; complete lines are delivered to onLine in order. */
  push(chunk: string): void;
  /** Delivers a last line that had no newline. */
  end(): void;
}

/** Splits a stream into lines and parses each one. */
export function createLineParser(onLine: (line: NodeLine) => void): LineParser {
  let rest = '';
  return {
    push(chunk: string): void {
      rest += chunk;
      let nl = rest.indexOf('\n');
      while (nl >= 0) {
        onLine(parseNodeLine(rest.slice(0, nl)));
        rest = rest.slice(nl + 1);
        nl = rest.indexOf('\n');
      }
    },
    end(): void {
      if (rest !== '') onLine(parseNodeLine(rest));
      rest = '';
    },
  };
}

// --- events ---------------------------------------------------------------------------------------

type Builder = (o: Json, ts: number) => NodeEvent | undefined;

const STEP_STATUSES: readonly StepStatus[] = ['start', 'ok', 'skip', 'fail'];
const SEVERITIES: readonly Severity[] = ['ok', 'warn', 'fail'];
const STAGE_STATUSES: readonly StageStatus[] = ['running', 'ok', 'failed', 'interrupted'];

const builders: Record<string, Builder> = {
  run: (o, ts): RunEvent | undefined => {
    const stage = oneOf(o.stage, STAGES);
    const [run, node, commit, log] = [str(o.run), str(o.node), str(o.commit), str(o.log)];
    const pid = num(o.pid);
    if (!stage || run === undefined || node === undefined || pid === undefined) return undefined;
    return { type: 'run', ts, run, stage, node, commit: commit ?? '', log: log ?? '', pid };
  },
  'stage-start': (o, ts): StageStartEvent | undefined => {
    const stage = oneOf(o.stage, STAGES);
    return stage ? { type: 'stage-start', ts, stage } : undefined;
  },
  step: (o, ts): StepEvent | undefined => {
    const stage = oneOf(o.stage, STAGES);
    const step = str(o.step);
    const status = oneOf(o.status, STEP_STATUSES);
    if (!stage || step === undefined || !status) return undefined;
    const service = str(o.service);
    const detail = str(o.detail);
    const durationMs = num(o.duration_ms);
    return {
      type: 'step',
      ts,
      stage,
      step,
      status,
      ...(service !== undefined && { service }),
      ...(detail !== undefined && { detail }),
      ...(durationMs !== undefined && { durationMs }),
    };
  },
  check: (o, ts): CheckEvent | undefined => {
    const [service, check, target] = [str(o.service), str(o.check), str(o.target)];
    const status = oneOf(o.status, ['ok', 'fail'] as const);
    if (service === undefined || check === undefined || !status) return undefined;
    return {
      type: 'check',
      ts,
      service,
      check,
      target: target ?? '',
      status,
      detail: str(o.detail) ?? '',
    };
  },
  finding: (o, ts): FindingEvent | undefined => {
    const id = str(o.id);
    const severity = oneOf(o.severity, SEVERITIES);
    const summary = str(o.summary);
    if (id === undefined || !severity || summary === undefined) return undefined;
    const service = str(o.service);
    return {
      type: 'finding',
      ts,
      id,
      severity,
      summary,
      evidence: str(o.evidence) ?? '',
      hint: str(o.hint) ?? '',
      ...(service !== undefined && service !== '' && { service }),
    };
  },
  'stage-end': (o, ts): StageEndEvent | undefined => {
    const stage = oneOf(o.stage, STAGES);
    const result = oneOf(o.result, ['ok', 'failed'] as const);
    if (!stage || !result) return undefined;
    const error = str(o.error);
    return {
      type: 'stage-end',
      ts,
      stage,
      result,
      durationMs: num(o.duration_ms) ?? 0,
      ...(error !== undefined && { error }),
    };
  },
  'run-end': (o, ts): RunEndEvent | undefined => {
    const run = str(o.run);
    const result = oneOf(o.result, ['ok', 'failed', 'interrupted'] as const);
    const exit = num(o.exit);
    if (run === undefined || !result || exit === undefined) return undefined;
    return { type: 'run-end', ts, run, result, exit };
  },
  history: (o, ts): HistoryEvent | undefined => {
    const [node, when, run, stage] = [str(o.node), str(o.when), str(o.run), str(o.stage)];
    if (node === undefined || when === undefined || run === undefined || stage === undefined)
      return undefined;
    return {
      type: 'history',
      ts,
      node,
      when,
      run,
      stage,
      result: str(o.result) ?? '',
      commit: str(o.commit) ?? '',
      durationMs: num(o.duration_ms) ?? null,
      by: str(o.by) ?? '',
    };
  },
  image: (o, ts): ImageEvent | undefined => {
    const service = str(o.service);
    const status = oneOf(o.status, IMAGE_STATUSES);
    if (service === undefined || !status) return undefined;
    return {
      type: 'image',
      ts,
      service,
      containerService: str(o.container_service) ?? '',
      ref: str(o.ref) ?? '',
      digest: str(o.digest) ?? '',
      id: str(o.id) ?? '',
      created: str(o.created) ?? '',
      remoteDigest: str(o.remote_digest) ?? '',
      remoteId: str(o.remote_id) ?? '',
      status,
      detail: str(o.detail) ?? '',
    };
  },
  confirm: (o, ts): ConfirmEvent | undefined => {
    const [run, node] = [str(o.run), str(o.node)];
    const result = oneOf(o.result, ['confirmed', 'refused'] as const);
    if (run === undefined || node === undefined || !result) return undefined;
    return {
      type: 'confirm',
      ts,
      run,
      node,
      commit: str(o.commit) ?? '',
      result,
      detail: str(o.detail) ?? '',
    };
  },
  resources: (o, ts): ResourcesEvent | undefined => {
    const node = str(o.node);
    if (node === undefined || !Array.isArray(o.containers) || !Array.isArray(o.disks))
      return undefined;
    const containers = o.containers.filter(isObject).map((c): ContainerResources => ({
      service: str(c.service) ?? '',
      container: str(c.container) ?? '',
      cpuPercent: num(c.cpu_percent) ?? null,
      memBytes: sizeBytes(c.mem_usage),
      memLimitBytes: sizeBytes(c.mem_limit),
      memPercent: num(c.mem_percent) ?? null,
    }));
    const disks = o.disks.filter(isObject).flatMap((d): DiskUsage[] => {
      const what = oneOf(d.what, ['docker', 'root'] as const);
      const [size, used, avail] = [num(d.size_kb), num(d.used_kb), num(d.avail_kb)];
      if (!what || size === undefined || used === undefined || avail === undefined) return [];
      return [{ what, path: str(d.path) ?? '', sizeKb: size, usedKb: used, availKb: avail }];
    });
    return { type: 'resources', ts, node, containers, disks, error: str(o.error) ?? '' };
  },
  status: (o, ts): StatusEvent | undefined => {
    const status = statusRecord(o);
    return status ? { type: 'status', ts, status } : undefined;
  },
};

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** docker's `1.5MiB`, `312KiB`, `2GB` as bytes; null for anything else. */
export function sizeBytes(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b)\s*$/i.exec(v);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  return m && unit !== undefined ? Math.round(Number(m[1]) * unit) : null;
}

function statusRecord(o: Json): NodeStatusRecord | undefined {
  const node = str(o.node);
  if (node === undefined || typeof o.bootstrapped !== 'boolean') return undefined;
  const stage: Stage | '' = oneOf(o.stage, STAGES) ?? '';
  const stageStatus: StageStatus | '' = oneOf(o.stage_status, STAGE_STATUSES) ?? '';
  const services = Array.isArray(o.services)
    ? o.services.flatMap((s) => serviceStatus(s) ?? [])
    : [];
  const runStage = str(o.run_stage);
  const error = str(o.error);
  const docker = oneOf(o.docker, ['ok', 'unavailable'] as const);
  const log = str(o.log);
  const confirm = o.confirm === null ? null : confirmState(o.confirm);
  const drift = Array.isArray(o.drift) ? o.drift.flatMap((d) => driftItem(d) ?? []) : undefined;
  const scriptsVersion =
    o.scripts_version === null ? null : wholeNumber(o.scripts_version, 999_999);
  const protocol = wholeNumber(o.protocol, 999);
  return {
    node,
    bootstrapped: o.bootstrapped,
    repoCommit: str(o.repo_commit) ?? '',
    stage,
    stageStatus,
    run: str(o.run) ?? '',
    target: str(o.target) ?? '',
    deployed: str(o.deployed) ?? '',
    knownGood: str(o.known_good) ?? '',
    lock: lockHolder(o.lock),
    services,
    ...(runStage !== undefined && { runStage }),
    ...(error !== undefined && { error }),
    ...(docker !== undefined && { docker }),
    ...(log !== undefined && { log }),
    ...(confirm !== undefined && { confirm }),
    ...(drift !== undefined && { drift }),
    ...(scriptsVersion !== undefined && { scriptsVersion }),
    ...(protocol !== undefined && { protocol }),
  };
}

/** A whole number from 0 to max, or undefined. */
function wholeNumber(v: unknown, max: number): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? v : undefined;
}

const DRIFT_KINDS: readonly DriftItem['kind'][] = [
  'config',
  'container',
  'missing',
  'extra',
  'checkout',
];

function driftItem(v: unknown): DriftItem | undefined {
  if (!isObject(v)) return undefined;
  const kind = oneOf(v.kind, DRIFT_KINDS);
  const detail = str(v.detail);
  if (!kind || detail === undefined) return undefined;
  return { service: str(v.service) ?? '', kind, detail, fix: str(v.fix) ?? '' };
}

const CONFIRM_STATES: readonly ConfirmState['state'][] = [
  'waiting',
  'confirmed',
  'rolling-back',
  'rolled-back',
];

function confirmState(v: unknown): ConfirmState | undefined {
  if (!isObject(v)) return undefined;
  const state = oneOf(v.state, CONFIRM_STATES);
  if (!state) return undefined;
  return {
    state,
    run: str(v.run) ?? '',
    commit: str(v.commit) ?? '',
    previous: str(v.previous) ?? '',
    timeout: num(v.timeout) ?? 0,
    deadline: num(v.deadline) ?? 0,
    watchdogAlive: v.watchdog_alive === true,
    rollbackRun: str(v.rollback_run) ?? '',
    rollbackLog: str(v.rollback_log) ?? '',
    rollbackResult: str(v.rollback_result) ?? '',
  };
}

function lockHolder(v: unknown): LockHolder | null {
  if (!isObject(v)) return null;
  return {
    pid: num(v.pid) ?? 0,
    user: str(v.user) ?? '',
    stage: str(v.stage) ?? '',
    commit: str(v.commit) ?? '',
    since: num(v.since) ?? 0,
  };
}

function serviceStatus(v: unknown): ServiceStatus | undefined {
  if (!isObject(v)) return undefined;
  const name = str(v.name);
  if (name === undefined) return undefined;
  const containers: ContainerStatus[] = Array.isArray(v.containers)
    ? v.containers.flatMap((c) =>
        isObject(c) && str(c.name) !== undefined
          ? [{ name: str(c.name) ?? '', state: str(c.state) ?? '', health: str(c.health) ?? '' }]
          : [],
      )
    : [];
  const images: ServiceImage[] = Array.isArray(v.images)
    ? v.images.flatMap((i) =>
        isObject(i) && str(i.service) !== undefined
          ? [
              {
                service: str(i.service) ?? '',
                image: str(i.image) ?? '',
                digest: str(i.digest) ?? '',
                created: str(i.created) ?? '',
              },
            ]
          : [],
      )
    : [];
  return {
    name,
    project: str(v.project) ?? '',
    state: oneOf(v.state, ['running', 'partial', 'stopped', 'missing'] as const) ?? 'missing',
    health: oneOf(v.health, ['healthy', 'unhealthy', 'starting', 'none'] as const) ?? 'none',
    containers,
    images,
  };
}

// --- field readers ----------------------------------------------------------------------------------

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[]): T | undefined {
  return typeof v === 'string' && (allowed as readonly string[]).includes(v) ? (v as T) : undefined;
}
