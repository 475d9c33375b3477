// The top line: homelab name, SATURN's branch and HEAD (dirty marker), transports, and banners.
import { Box, Text } from 'ink';
import { memo } from 'react';
import type { RepoInfo } from '../../core/node/types.js';
import type { Notice } from '../state/reducer.js';
import { shortSha, spinnerFrame, wrapText } from './format.js';

export interface HeaderProps {
  readonly homelab: string;
  readonly repo?: RepoInfo;
  /** For example "tailnet: 3 via tailscale-ssh, 1 local". */
  readonly transport: string;
  readonly refreshing: boolean;
  readonly spinner: number;
  readonly width: number;
}

function HeaderView({ homelab, repo, transport, refreshing, spinner, width }: HeaderProps) {
  const branch = repo ? repo.branch || 'detached' : '…';
  const dirty = repo && repo.dirty.length > 0;
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate">
        <Text bold color="magenta">
          {homelab}
        </Text>
        <Text color="gray"> │ </Text>
        <Text>{branch}</Text>
        <Text color="gray"> @ </Text>
        <Text color="yellow">{repo ? shortSha(repo.head) : '…'}</Text>
        {dirty ? <Text color="red">{` dirty (${repo.dirty.length})`}</Text> : null}
        <Text color="gray"> │ </Text>
        <Text color="gray">{transport}</Text>
        {refreshing ? <Text color="cyan">{` ${spinnerFrame(spinner)} refreshing`}</Text> : null}
      </Text>
    </Box>
  );
}

export const Header = memo(HeaderView);

/** The banners' rows once word-wrapped at `width` (each row padded with one space both sides). */
export function bannerLines(lines: readonly string[], width: number): string[] {
  return lines.flatMap((l) => wrapText(l, Math.max(1, width - 2)).map((r) => ` ${r} `));
}

export function Banners({
  lines,
  width,
}: {
  readonly lines: readonly string[];
  readonly width: number;
}) {
  if (lines.length === 0) return null;
  return (
    <Box flexDirection="column" width={width}>
      {bannerLines(lines, width).map((l, i) => (
        <Text key={i} color="black" backgroundColor="yellow" wrap="truncate">
          {l}
        </Text>
      ))}
    </Box>
  );
}

const NOTICE_COLOUR = { info: 'cyan', warn: 'yellow', error: 'red' } as const;

/** The notice's rows: word-wrapped, at most two (a refusal's reason and its fix both show). */
export function noticeLines(notice: Notice | undefined, width: number): string[] {
  return notice ? wrapText(notice.text, Math.max(1, width), 2) : [];
}

export function NoticeLine({
  notice,
  width,
}: {
  readonly notice?: Notice;
  readonly width: number;
}) {
  if (!notice) return null;
  return (
    <Box width={width} flexDirection="column">
      {noticeLines(notice, width).map((l, i) => (
        <Text key={i} color={NOTICE_COLOUR[notice.level]} wrap="truncate">
          {l}
        </Text>
      ))}
    </Box>
  );
}
