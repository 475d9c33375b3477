import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import {
  initialRecoverState,
  listedFindings,
  recoverReducer,
} from '../../../src/tui/recover/state.js';
import { RecoverView } from '../../../src/tui/recover/view.js';

describe('RecoverView', () => {
  it('draws the headline, failing findings, the log excerpt and the actions', () => {
    let s = initialRecoverState({
      node: 'mercury',
      failed: { stage: 'verify', step: 'health', service: 'web' },
      excerpt: 'verify: web unhealthy\nAuthorization: Bearer sk-live-abcdefgh12345',
    });
    s = recoverReducer(s, {
      type: 'finding',
      finding: {
        id: 'service.unhealthy',
        severity: 'fail',
        service: 'web',
        summary: 'web-1 is unhealthy',
        evidence: 'last healthcheck: exit 1: 404',
        hint: 'fix the healthcheck',
      },
    });
    s = recoverReducer(s, {
      type: 'finding',
      finding: { id: 'load', severity: 'ok', summary: 'load 0.1', evidence: '', hint: '' },
    });
    const { lastFrame, unmount } = render(<RecoverView state={s} width={100} height={30} />);
    const frame = lastFrame() ?? '';
    unmount();
    expect(frame).toContain('Recover mercury — ✗ verify failed at step health (web)');
    expect(frame).toContain('✗ service.unhealthy (web): web-1 is unhealthy');
    expect(frame).toContain('last healthcheck: exit 1: 404');
    expect(frame).toContain('Failing step log');
    expect(frame).toContain('verify: web unhealthy');
    expect(frame).not.toContain('sk-live-abcdefgh12345');
    expect(frame).toContain('fix: fix the healthcheck');
    // The actions are the app's footer keys now (the key table's 'recover' mode), not a menu here.
    expect(frame).not.toContain('Resume from the failed stage');
    expect(frame.split('\n').length).toBeLessThanOrEqual(30);
  });

  it('counts the lines that do not fit a short screen, and keeps the selected finding in view', () => {
    let s = initialRecoverState({ node: 'n' });
    for (let i = 0; i < 40; i++)
      s = recoverReducer(s, {
        type: 'finding',
        finding: { id: `f${i}`, severity: 'fail', summary: `problem ${i}`, evidence: '', hint: '' },
      });
    const { lastFrame, unmount, rerender } = render(
      <RecoverView state={s} width={80} height={16} />,
    );
    const frame = lastFrame() ?? '';
    expect(frame).toContain('40 failing');
    expect(frame).toMatch(/↓ \d+ more lines/);
    expect(frame.split('\n').length).toBeLessThanOrEqual(16);
    expect(frame.split('\n').every((l) => l.length <= 80)).toBe(true);
    // The cursor on the 30th finding: it is on screen, and what is above is counted.
    rerender(<RecoverView state={{ ...s, cursor: 29 }} width={80} height={16} />);
    const down = lastFrame() ?? '';
    unmount();
    const chosen = listedFindings(s)[29]!;
    expect(down).toContain(`› ✗ ${chosen.id}: ${chosen.summary}`);
    expect(down).toMatch(/↑ \d+ above/);
    expect(down.split('\n').length).toBeLessThanOrEqual(16);
  });
});
