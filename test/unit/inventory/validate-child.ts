// Runs `homelab <args>` from the sources in this process and prints, as the last line on stderr,
// the time main() took and the process's peak memory (`validate-cost <ms> <maxrss KiB>`): the
// hostile-input tests measure validate as a user runs it, without the TypeScript loader's start-up and transpiling.
import { main } from '../../../src/cli/main.js';

// Loaded (and transpiled) before the clock starts, as the built CLI would have them.
await import('../../../src/cli/commands/validate.js');
await import('../../../src/cli/commands/status.js');
const started = performance.now();
const code = await main(process.argv.slice(2));
const ms = Math.round(performance.now() - started);
process.stderr.write(`\nvalidate-cost ${ms} ${process.resourceUsage().maxRSS}\n`);
process.exitCode = code;
