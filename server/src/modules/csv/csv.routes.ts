import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { IdParams, MembersImportBody, MembersImportOut } from '../../../../contracts/src/index.js';
import { ImportFileError } from '../../importers/csv-lines.js';
import { importMembersCsv } from '../../importers/members-csv/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { AppError } from '../../lib/errors.js';
import { membersCsvRecords, ordersCsvRecords } from './csv.service.js';

const csvFile = z.string().describe('text/csv; charset=utf-8, a header line then one record per line (RFC 4180, CRLF)');

/** CSV in and out for spreadsheets and other systems (docs/import.md). */
export const csvRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/api/v1/communities/:communityId/members/import',
      {
        // The CSV travels inside JSON, so the body limit of the server applies (about 1 MB); larger files go through `yutang import members`.
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags: ['members'],
          summary: 'Import or update members from a CSV: external_id is the key; bad lines are reported with their line number (docs/import.md)',
          params: IdParams('communityId'),
          body: MembersImportBody,
          response: { 200: MembersImportOut },
        },
      },
      async (req) => {
        const { communityId } = requireActor(req);
        const { csv, strict, columns } = req.body;
        try {
          return await importMembersCsv(deps, communityId, () => Readable.from([csv]), { strict, columns });
        } catch (err) {
          if (err instanceof ImportFileError) throw new AppError('validation_failed', 400, err.message, [{ field: 'csv', message: err.message }]);
          throw err;
        }
      },
    );
    for (const [what, rows] of [
      ['members', membersCsvRecords],
      ['orders', ordersCsvRecords],
    ] as const) {
      app.get(
        `/api/v1/communities/:communityId/${what}.csv`,
        {
          config: { access: { kind: 'community', role: 'admin' } },
          schema: {
            tags: [what],
            summary: `Every ${what === 'members' ? 'member' : 'order'} of the community as CSV, streamed (docs/import.md)`,
            params: IdParams('communityId'),
            response: { 200: csvFile },
          },
        },
        async (req, reply) => {
          const { communityId } = requireActor(req);
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="${what}.csv"`)
            // Fastify pipes a stream as is, past the response schema that documents it as a string.
            .send(Readable.from(rows(deps.db, communityId)) as unknown as string);
        },
      );
    }
  };
