// A problem found in the homelab's files: where it is, what is wrong, and how to fix it.

export interface Problem {
  /** Repo-relative path, for example inventory/topology.yaml. */
  readonly file: string;
  /** 1-based line and column; 0 when the problem is about the file as a whole. */
  readonly line: number;
  readonly col: number;
  /** Dotted path of the field, for example nodes.solaria.services[1]; '' for the whole file. */
  readonly field: string;
  /** What is wrong and, where there is one, the fix. */
  readonly message: string;
}

/** `inventory/topology.yaml:12:7: nodes.solaria.services[1]: message` */
export function formatProblem(p: Problem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.col}` : p.file;
  return p.field ? `${where}: ${p.field}: ${p.message}` : `${where}: ${p.message}`;
}

export function compareProblems(a: Problem, b: Problem): number {
  return (
    a.file.localeCompare(b.file) ||
    a.line - b.line ||
    a.col - b.col ||
    a.message.localeCompare(b.message)
  );
}
