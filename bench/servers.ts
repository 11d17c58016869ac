/**
 * Child-process entry for the benches: serves one server on 127.0.0.1:0 and reports its port to the
 * parent over IPC. Each server runs in its own process so that it has a core to itself while the
 * load generator (autocannon, in the parent) runs on the other.
 *
 *   node dist/bench/servers.js <kind> <sqlite file>
 *
 *   yutang        the real server (buildApp over openDatabase)
 *   bare          Fastify + better-sqlite3 with a prepared statement, nothing else: the baseline
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import SQLite from 'better-sqlite3';
import { buildApp } from '../server/src/app.js';
import { openDatabase, type DatabaseHandle } from '../server/src/db/kysely.js';
import { BENCH_CONFIG, MEMBER_PATH } from './config.js';

export const SERVER_KINDS = ['yutang', 'bare'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

interface Running {
  app: FastifyInstance;
  close: () => Promise<void>;
}

async function yutang(database: DatabaseHandle): Promise<Running> {
  const app = await buildApp({
    database,
    config: { ...BENCH_CONFIG, trustProxy: false, logLevel: 'silent' },
    logger: false,
    // Rate limits stay installed (their bookkeeping is part of the cost) but never trip.
    limits: { loginPerMinute: 1_000_000, publicPerMinute: 1_000_000_000 },
  });
  return {
    app,
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}

type Lookup = (communityId: string, memberId: string) => unknown;

/** The floor: one route, the lookup, Fastify's default JSON serialization. */
async function bare(lookup: Lookup, close: () => Promise<void> | void): Promise<Running> {
  const app = Fastify({ logger: false });
  app.get<{ Params: { communityId: string; memberId: string } }>(MEMBER_PATH, async (req, reply) => {
    const row = await lookup(req.params.communityId, req.params.memberId);
    if (!row) return reply.code(404).send({ code: 'member_not_found' });
    return row;
  });
  await app.ready();
  return {
    app,
    close: async () => {
      await app.close();
      await close();
    },
  };
}

function openRaw(file: string) {
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  return sqlite;
}

function start(kind: ServerKind, file: string): Promise<Running> {
  switch (kind) {
    case 'yutang':
      return yutang(openDatabase(file));
    case 'bare': {
      const sqlite = openRaw(file);
      const byId = sqlite.prepare('SELECT * FROM members WHERE community_id = ? AND id = ?');
      return bare(
        (communityId, memberId) => byId.get(communityId, memberId),
        () => {
          sqlite.close();
        },
      );
    }
  }
}

async function main() {
  const [kind, file] = process.argv.slice(2);
  if (!SERVER_KINDS.includes(kind as ServerKind) || !file) throw new Error(`usage: servers.js ${SERVER_KINDS.join('|')} <sqlite file>`);
  const { app, close } = await start(kind as ServerKind, file);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const stop = () => void close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
  process.send?.({ port });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
