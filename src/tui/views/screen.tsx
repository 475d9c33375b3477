// The whole screen as a pure function of the state, the terminal size and the log store's lines.
import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { NodeAddIntents } from '../../core/onboarding/fields.js';
import type { Command } from '../keys.js';
import { visibleNodes, type AppState } from '../state/reducer.js';
import { ConfirmDialog, QuitDialog, WalkChoice, confirmDialogHeight } from './confirm-dialog.js';
import { DetailPane, detailLogHeight, type LogView } from './detail-pane.js';
import { Footer } from './footer.js';
import { Banners, Header, NoticeLine, bannerLines, noticeLines } from './header.js';
import { HelpOverlay } from './help-overlay.js';
import { HistoryView } from './history-view.js';
import { NodeAddForm } from './node-add-form.js';
import { NodeList, nodeListHeight } from './node-list.js';
import { FilterLine } from './filter-line.js';
import { StageMenu, stageMenuHeight } from './stage-menu.js';
import { UpdateMenu, updateMenuHeight } from './update-menu.js';
import { isOwnMode, ownView, type ViewsSource } from './service-logs.js';

export interface ScreenProps {
  readonly state: AppState;
  readonly cols: number;
  readonly rows: number;
  /** Reads `n` lines of a node's log ending `fromEnd` lines before the newest. */
  readonly readLog: (node: string, n: number, fromEnd: number) => LogView;
  readonly transport: string;
  /** Where the add-node form sends its check and write (the controller). */
  readonly nodeAdd?: NodeAddIntents;
  /** The add-node form closed; `added` names the node it wrote. */
  readonly onFormClosed?: (added: string | undefined) => void;
  /** A view that takes the detail pane's place (the guided recover view) and reads the keys. */
  readonly panel?: (size: { width: number; height: number }) => ReactNode;
  /** Whether each of the recover view's keys acts now (for the footer). */
  readonly panelKeys?: (command: Command) => boolean;
  /** The service logs and command log views' data (they take the detail area while open). */
  readonly views?: ViewsSource;
}

/** Terminals wider than this show nodes and detail side by side. */
export const WIDE = 140;

export interface Layout {
  readonly body: number;
  readonly wide: boolean;
  readonly listWidth: number;
  readonly listHeight: number;
  readonly detailWidth: number;
  readonly detailHeight: number;
}

/**
 * Rows an open modal needs in the detail area (its content, at most `max`), or null when the
 * detail area shows the node (or a view that takes all of it: the add-node form, the recover view).
 */
export function modalHeight(state: AppState, max: number): number | null {
  const m = state.mode;
  switch (m.kind) {
    case 'confirm':
      return Math.min(max, confirmDialogHeight(m.request, max));
    case 'menu':
      return Math.min(max, stageMenuHeight());
    case 'update-menu':
      return Math.min(max, updateMenuHeight(state));
    case 'walk-choice':
    case 'quit':
      return Math.min(max, 5);
    default:
      return null;
  }
}

export function layout(state: AppState, cols: number, rows: number, panel = false): Layout {
  const height = Math.max(6, rows - 1);
  const banners =
    bannerLines(state.banners, cols).length +
    noticeLines(state.notice, cols).length +
    (state.filter || state.mode.kind === 'filter' ? 1 : 0);
  const body = Math.max(3, height - 2 - banners);
  const wide = cols >= WIDE;
  const wanted = nodeListHeight(visibleNodes(state));
  if (wide) {
    const listWidth = Math.min(90, Math.floor(cols * 0.5));
    const detailWidth = cols - listWidth - 1;
    return {
      body,
      wide,
      listWidth,
      listHeight: body,
      detailWidth,
      detailHeight: panel ? body : (modalHeight(state, body) ?? body),
    };
  }
  // A modal takes the rows its content needs and the nodes keep the rest: the question and the
  // nodes it is about stay in view together.
  const modal = panel ? null : modalHeight(state, Math.max(3, body - 4));
  // The recover view needs the rows for its findings and their fixes: the nodes keep a few.
  const share = panel ? 0.25 : 0.45;
  const listHeight =
    modal !== null
      ? Math.max(3, Math.min(wanted, body - modal - 1))
      : Math.min(wanted, Math.max(3, Math.floor(body * share)));
  return {
    body,
    wide,
    listWidth: cols,
    listHeight,
    detailWidth: cols,
    detailHeight: Math.max(1, modal ?? body - listHeight - 1),
  };
}

export function Screen({
  state,
  cols,
  rows,
  readLog,
  transport,
  panel,
  panelKeys,
  views,
  nodeAdd,
  onFormClosed,
}: ScreenProps) {
  const mode = state.mode;
  // The recover view gives way to the one confirmation, help and quit question of the app.
  const showPanel = panel && mode.kind !== 'confirm' && mode.kind !== 'quit';
  const own = views !== undefined && isOwnMode(mode.kind);
  const l = layout(state, cols, rows, showPanel === true || own);
  const nodes = visibleNodes(state);
  // A node the filter hides is not shown in detail (nor acted on).
  const entry = nodes.find((n) => n.spec.name === state.selected);
  const head = state.repo?.head ?? '';

  let detail: ReactNode;
  const ownDetail =
    own && views
      ? ownView(mode, entry?.spec.name ?? state.selected, views, l.detailWidth, l.detailHeight)
      : null;
  if (ownDetail) {
    detail = ownDetail;
  } else if (showPanel && panel) {
    detail = panel({ width: l.detailWidth, height: l.detailHeight });
  } else if (mode.kind === 'confirm') {
    detail = <ConfirmDialog request={mode.request} width={l.detailWidth} height={l.detailHeight} />;
  } else if (mode.kind === 'add-node' && nodeAdd) {
    detail = (
      <NodeAddForm
        intents={nodeAdd}
        existingNodes={state.nodes.map((n) => n.spec.name)}
        width={l.detailWidth}
        isActive
        onClose={(result) => onFormClosed?.(result.added)}
      />
    );
  } else if (mode.kind === 'menu' && entry) {
    detail = <StageMenu node={entry.spec.name} index={mode.index} width={l.detailWidth} />;
  } else if (mode.kind === 'update-menu') {
    detail = <UpdateMenu state={state} index={mode.index} width={l.detailWidth} />;
  } else if (mode.kind === 'walk-choice') {
    detail = (
      <WalkChoice
        width={l.detailWidth}
        nodes={state.nodes.length}
        waves={new Set(state.nodes.map((n) => n.spec.wave)).size}
      />
    );
  } else if (mode.kind === 'quit') {
    detail = (
      <QuitDialog
        width={l.detailWidth}
        running={state.nodes.filter((n) => n.run?.running).map((n) => n.spec.name)}
      />
    );
  } else if (entry) {
    const logHeight = detailLogHeight(entry, l.detailHeight, l.detailWidth);
    const log = readLog(entry.spec.name, logHeight, state.logScroll);
    detail = (
      <DetailPane
        entry={entry}
        head={head}
        log={log}
        logScroll={state.logScroll}
        width={l.detailWidth}
        height={l.detailHeight}
      />
    );
  } else {
    detail = (
      <Text color="gray" wrap="truncate">
        {state.filter
          ? `no node matches "${state.filter}": Esc in / clears the filter`
          : 'no node selected'}
      </Text>
    );
  }

  const list = (
    <NodeList
      nodes={nodes}
      selected={state.selected}
      head={head}
      spinner={state.spinner}
      width={l.listWidth}
      height={l.listHeight}
      filter={state.filter}
      loading={state.loading}
    />
  );

  return (
    <Box flexDirection="column" width={cols} height={Math.max(6, rows - 1)}>
      <Header
        homelab={state.homelab}
        repo={state.repo}
        transport={transport}
        refreshing={state.refreshing || state.loading}
        spinner={state.spinner}
        width={cols}
      />
      <Banners lines={state.banners} width={cols} />
      <NoticeLine notice={state.notice} width={cols} />
      <FilterLine filter={state.filter} active={mode.kind === 'filter'} width={cols} />
      {mode.kind === 'history' ? (
        <HistoryView
          history={state.history}
          index={mode.index}
          scroll={mode.scroll}
          width={cols}
          height={l.body}
        />
      ) : mode.kind === 'help' ? (
        <HelpOverlay
          width={cols}
          height={l.body}
          scroll={mode.scroll}
          {...(state.recoverOpen
            ? { first: 'Recover' as const }
            : state.viewOpen
              ? { first: 'Logs' as const }
              : {})}
        />
      ) : l.wide ? (
        <Box flexDirection="row" height={l.body}>
          {list}
          <Box width={1} height={l.body} />
          <Box flexDirection="column" width={l.detailWidth} height={l.detailHeight}>
            {detail}
          </Box>
        </Box>
      ) : (
        <Box flexDirection="column" height={l.body}>
          {list}
          <Text color="gray">{'─'.repeat(cols)}</Text>
          <Box flexDirection="column" width={l.detailWidth} height={l.detailHeight}>
            {detail}
          </Box>
        </Box>
      )}
      <Footer state={state} width={cols} {...(panelKeys ? { acts: panelKeys } : {})} />
    </Box>
  );
}
