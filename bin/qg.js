#!/usr/bin/env node
// The `qg` command: runs the compiled CLI (npm run build writes dist/).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/apps/cli/src/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('qg: the CLI is not built yet: run `npm run build` (or `npm run build:server`) in the quorumgate directory\n');
  process.exit(1);
}
const { run } = await import(entry.href);
await run(process.argv);
