// The terminal's size, re-read on every resize. Ink 6 has no hook for it; under
// ink-testing-library (no rows) it defaults to 80x24.
import { useStdout } from 'ink';
import { useEffect, useState } from 'react';

export interface Size {
  readonly cols: number;
  readonly rows: number;
}

export function readSize(
  out: { columns?: number; rows?: number },
  fallback: Size = { cols: 80, rows: 24 },
): Size {
  return {
    cols: out.columns && out.columns > 0 ? out.columns : fallback.cols,
    rows: out.rows && out.rows > 0 ? out.rows : fallback.rows,
  };
}

export function useTerminalSize(fallback?: Size): Size {
  const { stdout } = useStdout();
  const [size, setSize] = useState(() => readSize(stdout, fallback));
  useEffect(() => {
    const onResize = (): void => setSize(readSize(stdout, fallback));
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, fallback]);
  return size;
}
