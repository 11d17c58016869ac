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
