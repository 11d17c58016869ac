import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  IdParams,
  MEMBERS_IMPORT_MAX_BYTES,
  MembersImportBody,
  MembersImportCsv,
  MembersImportOut,
  MembersImportQuery,
} from '../../../../contracts/src/index.js';
import { ImportFileError } from '../../importers/csv-lines.js';
import { importMembersCsv, MEMBER_COLUMNS } from '../../importers/members-csv/index.js';
import { csvRecord } from '../../lib/csv.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { AppError } from '../../lib/errors.js';
import { MEMBER_EXPORT_COLUMNS, membersCsvRecords, ORDER_EXPORT_COLUMNS, ordersCsvRecords } from './csv.service.js';

const csvFile = (example: string) =>
  z.string().describe('text/csv; charset=utf-8, a header line then one record per line (RFC 4180, CRLF)').meta({ examples: [example] });

/** What the exports look like, written by the exports' own writer. */
const EXPORT_EXAMPLES = {
  members: [
    MEMBER_EXPORT_COLUMNS,
    ['mem_0mx9qwwlh0000b784e09ed60ecb76', 'wx_renjia', '任佳', '苏州-医疗-任佳', 'vip;早鸟', 'active', '鱼塘读书会1群', '2026-03-02T12:15:00.000Z', '2026-03-02T12:15:00.000Z', null, '公众号', '2026-03-02T12:15:00.000Z'],
  ],
  orders: [
    ORDER_EXPORT_COLUMNS,
    ['ord_0mx9qwxmq000000f4e72e799059f8', 'mem_0mx9qwwlh0000b784e09ed60ecb76', 'wx_renjia', '任佳', 'prd_0mx9qwwkg00007c88693a84f3e898', '年度会员', 'paid', '199.00', 'CNY', 19900, 0, '2026-11-03T12:20:00.000Z', 'checkout', '2026-11-03T12:19:02.000Z'],
  ],
};

/** The import's options from the query string of a text/csv body, in the JSON body's shape. */
function queryOptions(q: MembersImportQuery): Pick<MembersImportBody, 'strict' | 'columns'> {
  const columns = Object.fromEntries(MEMBER_COLUMNS.flatMap((c) => (q[`columns.${c}`] ? [[c, q[`columns.${c}`]]] : [])));
  return { strict: q.strict === 'true', ...(Object.keys(columns).length && { columns }) };
}

/** CSV in and out for spreadsheets and other systems (docs/import.md). */
export const csvRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    // Spreadsheets and scripts send the file as it is; the JSON form stays for clients that speak only JSON.
    app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: MEMBERS_IMPORT_MAX_BYTES }, (_req, body, done) => done(null, body));
    app.post(
      '/api/v1/communities/:communityId/members/import',
      {
        // A JSON body is held to the server's body limit (about 1 MB), a text/csv one to 4 MB; larger files go through `yutang import members`.
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags: ['members'],
          summary: 'Import or update members from a CSV, as JSON {csv, strict, columns} or as a raw text/csv body with the options in the query: external_id is the key; bad lines are reported with their line number (docs/import.md)',
          params: IdParams('communityId'),
          querystring: MembersImportQuery,
          body: { content: { 'application/json': { schema: MembersImportBody }, 'text/csv': { schema: MembersImportCsv } } },
          response: { 200: MembersImportOut },
        },
      },
      async (req) => {
        const { communityId } = requireActor(req);
        // Fastify parses text/plain too, and validates only the types the schema names: refuse the rest here.
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'application/json' && type !== 'text/csv') throw new AppError('unsupported_media_type', 415, 'Send the file as text/csv, or as JSON {"csv": …}');
        const body = req.body as MembersImportBody | string;
        let input: MembersImportBody;
        if (typeof body === 'string') input = { csv: body, ...queryOptions(req.query) };
        else {
          const stray = Object.keys(req.query);
          // Two places for one option would leave the reader guessing which one won.
          if (stray.length) throw new AppError('validation_failed', 400, 'With a JSON body the options go in the body', stray.map((k) => ({ field: `query.${k}`, message: 'only with a text/csv body' })));
          input = body;
        }
        try {
          return await importMembersCsv(deps, communityId, () => Readable.from([input.csv]), { strict: input.strict, columns: input.columns });
        } catch (err) {
          if (err instanceof ImportFileError) throw new AppError('validation_failed', 400, err.message, [{ field: typeof body === 'string' ? 'body' : 'csv', message: err.message }]);
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
            response: { 200: csvFile(EXPORT_EXAMPLES[what].map(csvRecord).join('')) },
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
