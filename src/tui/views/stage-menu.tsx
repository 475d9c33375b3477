// The stage menu (s): the stages with what each does; the key table moves the choice (↑↓, Enter).
import { Box, Text } from 'ink';
import { STAGES, type Stage } from '../../core/protocol/events.js';
import { isChangingStage } from '../keys.js';
import { clip } from './format.js';

const ABOUT: Record<Stage, string> = {
  prepare: 'fetch and check out HEAD, check secrets and compose files',
  deploy: 'docker compose up the changed services',
  verify: 'wait for health, run the declared checks',
  diagnose: 'deep read-only checks',
  rollback: 'back to the last known-good commit',
  resume: 're-run the failed stage, then the rest',
  up: 'prepare, deploy and verify HEAD in one run',
};

export function stageItems(): Array<{ label: string; value: Stage }> {
  return STAGES.map((stage) => ({
    label: `${stage.padEnd(9)} ${isChangingStage(stage) ? '⚠' : ' '} ${ABOUT[stage]}`,
    value: stage,
  }));
}

/** Rows the menu takes on screen: its border, title and one row per stage. */
export function stageMenuHeight(): number {
  return STAGES.length + 3;
}

export interface StageMenuProps {
  readonly node: string;
  readonly index: number;
  readonly width: number;
}

export function StageMenu({ node, index, width }: StageMenuProps) {
  const inner = Math.max(1, width - 4);
  return (
    <Box flexDirection="column" width={width} borderStyle="round" borderColor="cyan" paddingX={1}>
      <Text bold wrap="truncate">
        {clip(`Run a stage on ${node} (⚠ asks first · Esc cancels)`, inner)}
      </Text>
      {stageItems().map((item, i) => (
        <Text key={item.value} color={i === index ? 'cyan' : undefined} wrap="truncate">
          {clip(`${i === index ? '❯' : ' '} ${item.label}`, inner)}
        </Text>
      ))}
    </Box>
  );
}
