// SATURN as a process of its own (the CLI from source), for tests that SIGKILL it mid-run:
//   tsx test/support/magic-rollback-saturn.ts run verify --node N --yes   (cwd: the homelab repo)
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
