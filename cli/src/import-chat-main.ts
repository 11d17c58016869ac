/**
 * `yutang import …`, entered from bin/yutang.js: a chat-export import runs with only what it needs,
 * anything else goes on to the full CLI. The full CLI loads the whole server at start (HTTP, payment
 * SDKs, analytics): about 35 MB more RSS, and a bigger live heap that V8 sizes the heap on, so the
 * same import peaked ~70 MB higher, above the 300 MB goal of docs/performance.md.
 */
import { Command } from 'commander';
import { ConfigError } from '../../server/src/config.js';
import { PARSERS } from '../../server/src/modules/imports/index.js';
import { importChatFile } from './import-chat.js';
import { communityFor, withDatabase } from './session.js';

const format = process.argv[3];
if (format !== undefined && Object.hasOwn(PARSERS, format)) {
  const program = new Command();
  program.name('yutang').showHelpAfterError();
  importChatFile(program.command('import').description('Import data from elsewhere'), withDatabase, communityFor);
  program.parseAsync(process.argv).catch((err: unknown) => {
    if (err instanceof ConfigError) console.error(err.message);
    else console.error(`yutang: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
} else {
  await import('./yutang.js');
}
