// What a changing stage is about to do, in words, for the confirmation: node, stage, the commit it
// will run (the one runStage pins: planStage), the services it touches, or why it would refuse.
import type { Stage } from '../../core/protocol/events.js';
import { shortSha } from '../../core/status/summary.js';
import type { Control, StagePlan } from './types.js';

export interface ChangeDescription {
  readonly plan: StagePlan;
  /** The question's text ('' when the plan is refused: plan.refusal says why). */
  readonly text: string;
}

export async function describeChange(
  control: Control,
  node: string,
  stage: Stage,
): Promise<ChangeDescription> {
  const plan = await control.planStage(node, stage);
  if (plan.refusal) return { plan, text: '' };
  const subject = plan.subject ? ` "${plan.subject}"` : '';
  const touched = plan.services.length > 0 ? plan.services.join(', ') : 'no service changes';
  if (stage === 'rollback')
    return {
      plan,
      text: `Roll back ${node} from ${shortSha(plan.deployed)} to known-good ${shortSha(plan.commit)}${subject} — services: ${touched}.`,
    };
  return {
    plan,
    text: `${stage} ${node} at ${shortSha(plan.commit)}${subject} — services: ${touched}.`,
  };
}
