import { z } from 'zod';

/** Largest CSV the import route takes in one request body; larger files go through `yutang import members`. */
export const MEMBERS_IMPORT_MAX_CHARS = 900_000;

export const MembersImportBody = z
  .strictObject({
    csv: z.string().min(1).max(MEMBERS_IMPORT_MAX_CHARS).describe('The whole CSV file: a header line with external_id and any of name, tags, joined_at, group'),
    strict: z.boolean().default(false).describe('Import nothing when any line is bad'),
    columns: z
      .partialRecord(z.enum(['external_id', 'name', 'tags', 'joined_at', 'group']), z.string().trim().min(1).max(200))
      .optional()
      .describe('Header names to look for instead of the column names'),
  })
  .meta({
    id: 'MembersImportBody',
    examples: [{ csv: 'external_id,name,tags,joined_at,group\nwx_alice,Alice,vip;early,2026-03-01T09:30:00+08:00,读书会一群\n', strict: false }],
  });
export type MembersImportBody = z.infer<typeof MembersImportBody>;

/** Largest raw `text/csv` body the import route takes (bytes); larger files go through `yutang import members`. */
export const MEMBERS_IMPORT_MAX_BYTES = 4 * 1024 * 1024;

const HeaderName = z.string().trim().min(1).max(200);

/** The same file as a raw `text/csv` body (UTF-8); its options come in the query string. */
export const MembersImportCsv = z
  .string()
  .min(1)
  .describe('The CSV file itself, UTF-8: a header line with external_id and any of name, tags, joined_at, group')
  .meta({ examples: ['external_id,name,tags,joined_at,group\nwx_alice,Alice,vip;early,2026-03-01T09:30:00+08:00,读书会一群\nwx_renjia,任佳,,2026-03-02 20:15,读书会一群\n'] });

/** Options of a `text/csv` import, as the JSON body's fields: `strict`, and `columns.<column>` for each header name. */
export const MembersImportQuery = z.strictObject({
  strict: z.enum(['true', 'false']).optional().describe('text/csv bodies only: import nothing when any line is bad'),
  'columns.external_id': HeaderName.optional().describe('text/csv bodies only: header of the external_id column'),
  'columns.name': HeaderName.optional(),
  'columns.tags': HeaderName.optional(),
  'columns.joined_at': HeaderName.optional(),
  'columns.group': HeaderName.optional(),
});
export type MembersImportQuery = z.infer<typeof MembersImportQuery>;

export const MembersImportOut = z
  .object({
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    joined: z.number().int(),
    skipped: z.number().int(),
    errors: z.array(z.object({ line: z.number().int(), reason: z.string() })),
  })
  .meta({ id: 'MembersImportOut', examples: [{ created: 2, updated: 0, unchanged: 0, joined: 1, skipped: 1, errors: [{ line: 4, reason: 'external_id is missing' }] }] });
export type MembersImportOut = z.infer<typeof MembersImportOut>;
