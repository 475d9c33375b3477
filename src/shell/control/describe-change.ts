// What a changing stage is about to do, in words, for the confirmation: node, stage, commit, services.
import type { Stage } from '../../core/protocol/events.js';
import { shortSha } from '../../core/status/summary.js';
import type { Control } from './types.js';

export async function describeChange(
  control: Control,
  node: string,
  stage: Stage,
): Promise<string> {
  const [info, probe] = await Promise.all([control.repoInfo(), control.probe(node)]);
  const status = probe.reachable ? probe.status : undefined;
  if (stage === 'rollback') {
    const to = status?.knownGood ?? '';
    if (!to)
      return `Roll back ${node}: it has no known-good commit yet (a verify has never passed).`;
    return `Roll back ${node} from ${shortSha(status?.deployed ?? '')} to known-good ${shortSha(to)}.`;
  }
  const services = await control.changedServices(node, status?.deployed ?? '');
  const touched = services.length > 0 ? services.join(', ') : 'no service changes';
  const target = stage === 'resume' && status?.target ? status.target : info.head;
  return `${stage} ${node} at ${shortSha(target)} "${info.headSubject}" — services: ${touched}.`;
}
