import { createReadStream } from 'node:fs';
import { type z } from 'zod';
import type { Deps } from '../../lib/deps.js';
import { sha256 } from '../../lib/hash.js';
import { newId } from '../../lib/ids.js';
import { findCommunityById } from '../../modules/communities/index.js';
import { insertEvent } from '../../modules/events/index.js';
import { postEntries } from '../../modules/orders/index.js';
import { csvImportOptions, readCsvLines } from '../csv-lines.js';
import { parseAmount, parseCurrency, parsePaidAt } from './orders-csv.parse.js';
import { ensureImportedMember, findProductIdById, findProductIdByName, insertImportedOrder, insertImportedProduct } from './orders-csv.repo.js';

/** The CSV columns an import reads; each header name can be overridden. */
export const IMPORT_COLUMNS = ['member_external_id', 'paid_at', 'amount', 'currency', 'product'] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

export { ImportFileError } from '../csv-lines.js';

export const ImportOrdersOptions = csvImportOptions(IMPORT_COLUMNS);
export type ImportOrdersOptions = z.input<typeof ImportOrdersOptions>;

export interface ImportSummary {
  /** Orders added by this run. */
  imported: number;
  /** Valid lines whose order was already imported (by an earlier run or earlier in the file). */
  duplicates: number;
  /** Lines not imported: the bad ones, or with --strict and any bad line, every line. */
  skipped: number;
  errors: { line: number; reason: string }[];
}

interface ValidRow {
  line: number;
  externalId: string;
  paidAt: string;
  amountMinor: number;
  currency: string;
  product: { id: string } | { name: string };
  key: string;
}

type LineResult = { line: number; row: ValidRow } | { line: number; reason: string };

const PRODUCT_ID = /^prd_[\w-]+$/;
const MAX_FIELD = 200;

/** Streams the file and yields each data line parsed or rejected. */
async function* readLines(file: string, columns: Partial<Record<ImportColumn, string>>, zone: string): AsyncGenerator<LineResult> {
  for await (const l of readCsvLines(createReadStream(file), IMPORT_COLUMNS, [], columns)) yield parseLine(l.line, (c) => l.get(c) ?? '', zone);
}

function parseLine(line: number, get: (c: ImportColumn) => string, zone: string): LineResult {
  const externalId = get('member_external_id');
  if (!externalId) return { line, reason: 'member_external_id is missing' };
  if (externalId.length > MAX_FIELD) return { line, reason: `member_external_id is longer than ${MAX_FIELD} characters` };
  const paidAt = parsePaidAt(get('paid_at'), zone);
  if (!paidAt.ok) return { line, reason: paidAt.reason };
  const currency = parseCurrency(get('currency'));
  if (!currency.ok) return { line, reason: currency.reason };
  const amount = parseAmount(get('amount'), currency.value);
  if (!amount.ok) return { line, reason: amount.reason };
  const product = get('product');
  if (!product) return { line, reason: 'product is missing' };
  if (product.length > MAX_FIELD) return { line, reason: `product is longer than ${MAX_FIELD} characters` };
  const ref = PRODUCT_ID.test(product) ? { id: product } : { name: product };
  const key = sha256(JSON.stringify([externalId, paidAt.value, amount.value, currency.value, product]));
  return { line, row: { line, externalId, paidAt: paidAt.value, amountMinor: amount.value, currency: currency.value, product: ref, key } };
}

/**
 * Imports paid orders made elsewhere from a CSV file (see docs/import.md). Each valid line becomes
 * a paid order with `source = 'import'`, balanced ledger entries and an `order_paid` event at
 * `paid_at`; members are created by external id on first sight (never seated). Re-importing a line
 * adds nothing. Reads the file as a stream, `batchSize` lines per transaction; with `strict` it reads
 * the file twice and imports only if the first pass finds no bad line.
 */
export async function importOrdersCsv(
  deps: Deps,
  communityId: string,
  file: string,
  options: ImportOrdersOptions = {},
  onProgress?: (linesRead: number) => void,
): Promise<ImportSummary> {
  const opts = ImportOrdersOptions.parse(options);
  const community = await findCommunityById(deps.db, communityId);
  if (!community) throw new Error(`No community ${communityId}`);
  const summary: ImportSummary = { imported: 0, duplicates: 0, skipped: 0, errors: [] };
  const productIds = new Map<string, string | null>();

  const resolveProductById = async (id: string) => {
    if (!productIds.has(id)) productIds.set(id, (await findProductIdById(deps.db, communityId, id))?.id ?? null);
    return productIds.get(id)!;
  };

  const check = async (r: LineResult): Promise<ValidRow | null> => {
    if ('reason' in r) {
      summary.errors.push({ line: r.line, reason: r.reason });
      return null;
    }
    if ('id' in r.row.product && !(await resolveProductById(r.row.product.id))) {
      summary.errors.push({ line: r.line, reason: `no product with id ${r.row.product.id} in this community` });
      return null;
    }
    return r.row;
  };

  let dataLines = 0;
  if (opts.strict) {
    for await (const r of readLines(file, opts.columns, community.time_zone)) {
      dataLines++;
      await check(r);
      if (onProgress && dataLines % opts.progressEvery === 0) onProgress(dataLines);
    }
    if (summary.errors.length) return { ...summary, skipped: dataLines };
    summary.errors = [];
  }

  let batch: ValidRow[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const rows = batch;
    batch = [];
    // Names resolved in this transaction join the cache only once it commits.
    const resolved = new Map<string, string>();
    const imported = await deps.db.transaction().execute(async (trx) => {
      let imported = 0;
      const at = deps.clock.now().toISOString();
      for (const row of rows) {
        let productId: string;
        if ('id' in row.product) productId = row.product.id;
        else {
          const cacheKey = `name:${row.product.name}`;
          const known = productIds.get(cacheKey) ?? resolved.get(cacheKey) ?? (await findProductIdByName(trx, communityId, row.product.name))?.id;
          productId = known ?? (await insertImportedProduct(trx, { community_id: communityId, name: row.product.name, price_minor: row.amountMinor, currency: row.currency, at }));
          resolved.set(cacheKey, productId);
        }
        const memberId = await ensureImportedMember(trx, communityId, row.externalId, at);
        const id = newId('ord');
        const inserted = await insertImportedOrder(trx, {
          id,
          community_id: communityId,
          member_id: memberId,
          product_id: productId,
          status: 'paid',
          amount_minor: row.amountMinor,
          currency: row.currency,
          idempotency_key: `import:${row.key}`,
          request_hash: row.key,
          provider: 'import',
          provider_ref: null,
          checkout_token_hash: sha256(`import:${id}`),
          membership_id: null,
          paid_at: row.paidAt,
          cancelled_at: null,
          cancel_reason: null,
          source: 'import',
          import_key: row.key,
          created_at: at,
          updated_at: at,
        });
        if (!inserted) continue;
        imported++;
        await postEntries(trx, { community_id: communityId, order_id: id, refund_id: null, currency: row.currency, created_at: row.paidAt }, [
          { account: 'customer_payments', amount_minor: row.amountMinor },
          { account: 'revenue', amount_minor: -row.amountMinor },
        ]);
        await insertEvent(
          trx,
          {
            community_id: communityId,
            type: 'order_paid',
            occurred_at: row.paidAt,
            member_id: memberId,
            props: { order_id: id, product_id: productId, amount_minor: row.amountMinor, currency: row.currency, provider: 'import', membership_id: null, imported: true },
          },
          at,
        );
      }
      return imported;
    });
    for (const [k, v] of resolved) productIds.set(k, v);
    summary.imported += imported;
    summary.duplicates += rows.length - imported;
  };

  let seen = 0;
  for await (const r of readLines(file, opts.columns, community.time_zone)) {
    seen++;
    const row = await check(r);
    if (row) batch.push(row);
    if (batch.length >= opts.batchSize) await flush();
    if (onProgress && seen % opts.progressEvery === 0) onProgress(seen);
  }
  await flush();
  summary.skipped = summary.errors.length;
  return summary;
}
