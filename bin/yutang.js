#!/usr/bin/env node
// The CLI runs from the compiled output; `npm start` / `npm run build` produce it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/src/yutang.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('yutang: not built yet. Run `npm run build` (or `npm start`) first.');
  process.exit(1);
}
// Chat-export imports start lean (cli/src/import-chat-main.ts says why); it hands the rest on.
await import(process.argv[2] === 'import' ? new URL('../dist/cli/src/import-chat-main.js', import.meta.url).href : entry.href);
