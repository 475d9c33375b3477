// The filter line under the header: what is typed after /, with a cursor while typing.
import { Box, Text } from 'ink';

export function FilterLine({
  filter,
  active,
  width,
}: {
  readonly filter: string;
  readonly active: boolean;
  readonly width: number;
}) {
  if (!active && !filter) return null;
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate">
        <Text color="cyan">/</Text>
        <Text>{filter}</Text>
        {active ? (
          <Text inverse> </Text>
        ) : (
          <Text color="gray">{'  (/ to change, Esc in filter to clear)'}</Text>
        )}
      </Text>
    </Box>
  );
}
