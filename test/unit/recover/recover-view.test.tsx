import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { initialRecoverState, recoverReducer } from '../../../src/tui/state/recover.js';
import { RecoverView } from '../../../src/tui/views/recover-view.js';

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
    expect(frame).toContain('› r   Resume from the failed stage (verify)');
    expect(frame).toContain(
      'Ask the AI command (none configured: set ai.command in inventory/topology.yaml)',
    );
    expect(frame.split('\n').length).toBeLessThanOrEqual(30);
  });

  it('keeps the actions visible when findings overflow a short screen', () => {
    let s = initialRecoverState({ node: 'n' });
    for (let i = 0; i < 40; i++)
      s = recoverReducer(s, {
        type: 'finding',
        finding: { id: `f${i}`, severity: 'fail', summary: `problem ${i}`, evidence: '', hint: '' },
      });
    const { lastFrame, unmount } = render(<RecoverView state={s} width={80} height={16} />);
    const frame = lastFrame() ?? '';
    unmount();
    expect(frame).toContain('Back');
    expect(frame).toContain('Re-run diagnose');
    expect(frame.split('\n').length).toBeLessThanOrEqual(16);
  });
});
