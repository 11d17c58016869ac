import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { IANAZone } from 'luxon';
import type { Config } from '../../server/src/config.js';
import type { Db } from '../../server/src/db/kysely.js';
import type { Deps } from '../../server/src/lib/deps.js';
import { systemClock } from '../../server/src/lib/clock.js';
import { importChat, PARSERS, tuneForImport, type ImportPlatform, type ImportReport } from '../../server/src/modules/imports/index.js';

type WithDatabase = <T>(fn: (h: { db: Db } & Parameters<typeof tuneForImport>[0], config: Config) => Promise<T>) => Promise<T>;
type CommunityFor = (deps: Deps, slug: string) => Promise<{ id: string; slug: string; time_zone: string }>;

const size = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.ceil(n / 1e3)} kB`);

function summary(r: ImportReport, slug: string): string {
  const lines = [
    `${r.format} → "${slug}": ${r.messages} messages by ${r.authors} people, ${r.joins} joins, ${r.leaves} leaves` + (r.first_at ? `, ${r.first_at} → ${r.last_at}` : ''),
    `${r.imported} records written now, ${r.duplicates} already imported, ${r.service} service lines, ${r.problem_count} problems (${r.skipped} skipped).`,
  ];
  for (const a of r.ambiguous_names.slice(0, 20)) lines.push(`"${a.name}" names more than one person (${a.external_ids.join(', ')}): its joins and leaves were kept apart from them; merge identities if they are one.`);
  if (r.ambiguous_names.length > 20) lines.push(`… and ${r.ambiguous_names.length - 20} more ambiguous names (see --json).`);
  if (r.aborted) lines.push('Nothing was imported (--strict): fix the problems and run again.');
  return lines.join('\n');
}

/**
 * `yutang import <format> <file>` for every parser of the registry: streams the file through the
 * parser into the import pipeline, with progress on stderr and the report on stdout.
 */
export function importChatFile(importCmd: Command, withDatabase: WithDatabase, communityFor: CommunityFor): void {
  for (const [format, parser] of Object.entries(PARSERS)) {
    importCmd
      .command(`${format} <file>`)
      .description(`Import a ${format} chat export (see docs/imports.md); re-importing a file or an overlapping export adds nothing twice`)
      .requiredOption('--community <slug>', 'community slug (created with defaults if it does not exist)')
      .option('--group <name>', 'put every chat into this group instead of one group per chat')
      .option('--tz <zone>', 'time zone of timestamps without an offset (default: the community’s)')
      .option('--date-format <order>', 'date order when the export is ambiguous, e.g. d/m/y')
      .option('--json', 'print the report as one JSON object on the last line')
      .option('--strict', 'check the whole file first and import nothing if any record is bad')
      .action(async (file: string, opts: { community: string; group?: string; tz?: string; dateFormat?: string; json?: boolean; strict?: boolean }) =>
        withDatabase(async (handle, config) => {
          if (!existsSync(file)) throw new Error(`${file}: no such file`);
          if (opts.tz !== undefined && !IANAZone.isValidZone(opts.tz)) throw new Error(`--tz: unknown time zone "${opts.tz}"`);
          tuneForImport(handle);
          const deps: Deps = { db: handle.db, clock: systemClock, config };
          const community = await communityFor(deps, opts.community);
          const total = statSync(file).size;
          let bytes = 0;
          let shown = 0;
          // Each iteration reads the file from its start: WhatsApp reads it twice (date order first).
          const open = (): AsyncIterable<Uint8Array> => ({
            [Symbol.asyncIterator]: async function* () {
              bytes = 0;
              for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
                bytes += chunk.byteLength;
                yield chunk;
              }
            },
          });
          const progress = (records: number) => {
            shown++;
            process.stderr.write(`\rRead ${records} records, ${size(bytes)} of ${size(total)}…`);
          };
          let report: ImportReport;
          try {
            report = await importChat(deps, community.id, {
              format: format as ImportPlatform,
              parser,
              open,
              parse: { timeZone: opts.tz ?? community.time_zone, chat: basename(file).replace(/\.[^.]+$/, ''), ...(opts.dateFormat ? { dateFormat: opts.dateFormat } : {}) },
              group: opts.group,
              strict: !!opts.strict,
              onProgress: progress,
            });
          } finally {
            if (shown) process.stderr.write('\n');
          }
          for (const p of report.problems.slice(0, 100)) console.error(`${p.location}: ${p.reason}`);
          if (report.problem_count > 100) console.error(`… and ${report.problem_count - 100} more problems`);
          if (opts.json) console.log(JSON.stringify(report));
          else console.log(summary(report, community.slug));
          if (report.problem_count) process.exitCode = 1;
        }),
      );
  }
}
