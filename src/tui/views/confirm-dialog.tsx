// "Run <stage> on <node>?": names node, stage, commit and the services it touches. Default: No.
import { Box, Text } from 'ink';
import type { ConfirmRequest } from '../state/reducer.js';
import { clip, shortSha } from './format.js';

/** Rows of the dialog around its node lines: border, title, stage, commit, heading, keys. */
const CONFIRM_FRAME = 7;

/** Node lines shown when the dialog may take at most `max` rows (the rest are counted, "… 3 more"). */
function nodeRoom(request: ConfirmRequest, max: number): number {
  const n = request.nodes.length;
  const room = Math.max(1, max - CONFIRM_FRAME - request.warnings.length);
  return n <= room ? n : Math.max(1, room - 1);
}

/** Rows the dialog takes: what its content needs, at most `max`. */
export function confirmDialogHeight(request: ConfirmRequest, max: number): number {
  const shown = nodeRoom(request, max);
  const more = request.nodes.length > shown ? 1 : 0;
  return CONFIRM_FRAME + request.warnings.length + shown + more;
}

export function ConfirmDialog({
  request,
  width,
  height,
}: {
  readonly request: ConfirmRequest;
  readonly width: number;
  /** At most this many rows; it takes only what its content needs. */
  readonly height: number;
}) {
  const inner = Math.max(10, width - 4);
  const nodeLines = request.nodes.map((n) => {
    const svcs = request.services[n] ?? [];
    return `${n}: ${svcs.length > 0 ? svcs.join(', ') : 'no service changes'}`;
  });
  const room = nodeRoom(request, height);
  return (
    <Box flexDirection="column" width={width} borderStyle="round" borderColor="yellow" paddingX={1}>
      <Text bold color="yellow" wrap="truncate">
        {clip(request.title, inner)}
      </Text>
      <Text wrap="truncate">
        <Text color="gray">{'stage    '}</Text>
        <Text bold>{request.what ?? request.stage}</Text>
        <Text color="gray">
          {request.nodes.length > 1 ? ' (changes the nodes)' : ' (changes the node)'}
        </Text>
      </Text>
      <Text wrap="truncate">
        <Text color="gray">{'commit   '}</Text>
        <Text color="yellow">{shortSha(request.commit)}</Text>
        <Text>{` ${request.subject}`}</Text>
      </Text>
      <Text color="gray" wrap="truncate">
        {request.nodes.length > 1
          ? 'nodes and the services each touches'
          : 'node and the services it touches'}
      </Text>
      {nodeLines.slice(0, room).map((l) => (
        <Text key={l} wrap="truncate">
          {clip(`  ${l}`, inner)}
        </Text>
      ))}
      {nodeLines.length > room ? (
        <Text color="gray">{`  … ${nodeLines.length - room} more`}</Text>
      ) : null}
      {request.warnings.map((w) => (
        <Text key={w} color="red" wrap="truncate">
          {clip(w, inner)}
        </Text>
      ))}
      <Text wrap="truncate">
        <Text bold color="green">
          y
        </Text>
        <Text> yes, run it </Text>
        <Text bold color="red">
          n/Enter/Esc
        </Text>
        <Text> no (default)</Text>
      </Text>
    </Box>
  );
}

export function QuitDialog({
  running,
  width,
}: {
  readonly running: readonly string[];
  readonly width: number;
}) {
  return (
    <Box flexDirection="column" width={width} borderStyle="round" borderColor="yellow" paddingX={1}>
      <Text
        bold
        color="yellow"
        wrap="truncate"
      >{`A stage is running on ${running.join(', ')}. Quit anyway?`}</Text>
      <Text color="gray" wrap="truncate">
        It keeps running on the node; its log and state stay there (`homelab status` shows them).
      </Text>
      <Text wrap="truncate">
        <Text bold color="green">
          y
        </Text>
        <Text> quit </Text>
        <Text bold color="red">
          n/Enter/Esc
        </Text>
        <Text> stay (default)</Text>
      </Text>
    </Box>
  );
}

export function WalkChoice({
  width,
  nodes,
  waves,
}: {
  readonly width: number;
  readonly nodes: number;
  readonly waves: number;
}) {
  return (
    <Box flexDirection="column" width={width} borderStyle="round" borderColor="yellow" paddingX={1}>
      <Text
        bold
        color="yellow"
        wrap="truncate"
      >{`Deploy the homelab: ${nodes} nodes in ${waves} wave${waves === 1 ? '' : 's'}, prepare -> deploy -> verify`}</Text>
      <Text color="gray" wrap="truncate">
        The first failure stops the walk and shows that node.
      </Text>
      <Text wrap="truncate">
        <Text bold color="cyan">
          e/Enter
        </Text>
        <Text> ask before every stage </Text>
        <Text bold color="cyan">
          w
        </Text>
        <Text> ask once per wave </Text>
        <Text bold color="red">
          Esc
        </Text>
        <Text> cancel</Text>
      </Text>
    </Box>
  );
}
