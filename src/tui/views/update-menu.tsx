// The update menu (u): update one service of the selected node, the whole node, or every node of
// its wave (each asked first, showing what changes); the key table moves the choice (↑↓, Enter).
import { Box, Text } from 'ink';
import { shortDigest, updatableServices, type UpdateScope } from '../../core/images/updates.js';
import { selectedNode, type AppState } from '../state/reducer.js';
import { clip } from './format.js';

export interface UpdateMenuItem {
  readonly label: string;
  readonly scope: UpdateScope;
}

/** The choices for the selected node: the node first (the default), each updatable service, the wave. */
export function updateMenuItems(state: AppState): UpdateMenuItem[] {
  const n = selectedNode(state);
  if (!n) return [];
  const images = n.images?.images ?? [];
  const services = updatableServices(images);
  const wave = state.nodes.filter((x) => x.spec.wave === n.spec.wave);
  const waveUpdates = wave.filter((x) => updatableServices(x.images?.images ?? []).length > 0);
  return [
    {
      label: `node ${n.spec.name}: its ${services.length} out-of-date service${services.length === 1 ? '' : 's'}`,
      scope: { kind: 'node' },
    },
    ...services.map((s): UpdateMenuItem => {
      const i = images.find((x) => x.service === s && x.status === 'updatable');
      return {
        label: `service ${s}: ${i ? `${i.ref} ${shortDigest(i.digest)} -> ${shortDigest(i.remoteDigest)}` : ''}`,
        scope: { kind: 'service', service: s },
      };
    }),
    {
      label: `wave ${n.spec.wave}: every out-of-date service of its ${wave.length} node${wave.length === 1 ? '' : 's'} (${waveUpdates.length} known to need it; asked again)`,
      scope: { kind: 'wave' },
    },
  ];
}

/** Rows the menu takes on screen: its border, title and one row per choice. */
export function updateMenuHeight(state: AppState): number {
  return updateMenuItems(state).length + 3;
}

export function UpdateMenu({
  state,
  index,
  width,
}: {
  readonly state: AppState;
  readonly index: number;
  readonly width: number;
}) {
  const inner = Math.max(1, width - 4);
  const items = updateMenuItems(state);
  return (
    <Box flexDirection="column" width={width} borderStyle="round" borderColor="cyan" paddingX={1}>
      <Text bold wrap="truncate">
        {clip('Update images: pull, recreate, verify (asks first · Esc cancels)', inner)}
      </Text>
      {items.map((item, i) => (
        <Text key={item.label} color={i === index ? 'cyan' : undefined} wrap="truncate">
          {clip(`${i === index ? '❯' : ' '} ${item.label}`, inner)}
        </Text>
      ))}
    </Box>
  );
}
