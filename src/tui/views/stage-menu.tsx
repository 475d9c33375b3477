// The stage menu (s): ink-select-input, listening only while the menu is the mode.
import { Box, Text } from 'ink';
import SelectInput from 'ink-select-input';
import { STAGES, type Stage } from '../../core/protocol/events.js';
import { isChangingStage } from '../keys.js';

const ABOUT: Record<Stage, string> = {
  prepare: 'fetch and check out HEAD, check secrets and compose files',
  deploy: 'docker compose up the changed services',
  verify: 'wait for health, run the declared checks',
  diagnose: 'deep read-only checks',
  rollback: 'back to the last known-good commit',
  resume: 're-run the failed stage, then the rest',
};

export function stageItems(): Array<{ label: string; value: Stage }> {
  return STAGES.map((stage) => ({
    label: `${stage.padEnd(9)} ${isChangingStage(stage) ? '⚠' : ' '} ${ABOUT[stage]}`,
    value: stage,
  }));
}

export interface StageMenuProps {
  readonly node: string;
  readonly focused: boolean;
  readonly width: number;
  readonly onPick: (stage: Stage) => void;
}

export function StageMenu({ node, focused, width, onPick }: StageMenuProps) {
  return (
    <Box flexDirection="column" width={width} borderStyle="round" borderColor="cyan" paddingX={1}>
      <Text bold wrap="truncate">{`Run a stage on ${node} (⚠ asks first · Esc cancels)`}</Text>
      <SelectInput
        items={stageItems()}
        isFocused={focused}
        onSelect={(item) => onPick(item.value)}
      />
    </Box>
  );
}
