import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { ServerKind } from './servers.js';

export interface LoadFigures {
  /** Successful (2xx) responses per second over the whole run. */
  rps: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMeanMs: number;
  requests: number;
  non2xx: number;
  errors: number;
  durationS: number;
}

export interface LoadOptions {
  url: string;
  durationS: number;
  /** Send exactly this many requests instead of running for `durationS`. */
  amount?: number;
  connections: number;
  /** Builds the next request; called once per request sent. Its headers are added to `headers`. */
  next: () => { method?: string; path: string; body?: string; headers?: Record<string, string> };
  headers?: Record<string, string>;
}

const percentile = (sorted: Float64Array, p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! : 0);
const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * One autocannon run. Latencies come from autocannon's per-response event (sub-millisecond
 * resolution) because its own histogram truncates to whole milliseconds.
 */
export async function load(o: LoadOptions): Promise<LoadFigures> {
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  const instance = autocannon({
    url: o.url,
    connections: o.connections,
    ...(o.amount ? { amount: o.amount } : { duration: o.durationS }),
    timeout: 30,
    headers: o.headers ?? {},
    requests: [
      {
        setupRequest: (req) => {
          const next = o.next();
          return { ...req, ...next, headers: { ...req.headers, ...next.headers } };
        },
      },
    ],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status < 200 || status > 299) return;
    if (n === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[n++] = ms;
  });
  const result = await instance;
  const sorted = latencies.subarray(0, n).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const ok = result['2xx'];
  return {
    rps: ok / result.duration,
    latencyP50Ms: round2(percentile(sorted, 0.5)),
    latencyP99Ms: round2(percentile(sorted, 0.99)),
    latencyMeanMs: round2(n ? sum / n : 0),
    requests: ok + result.non2xx,
    non2xx: result.non2xx,
    errors: result.errors,
    durationS: result.duration,
  };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export interface ChildServer {
  kind: ServerKind;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `bench/servers.ts` in a child process on its own core and waits for its port. */
export function startChildServer(kind: ServerKind, file: string): Promise<ChildServer> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'servers.js');
  const child: ChildProcess = fork(script, [kind, file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${kind} server exited with ${code} before listening`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.once('message', (m: { port: number }) => {
      child.off('exit', onExit);
      resolve({
        kind,
        url: `http://127.0.0.1:${m.port}`,
        pid: child.pid!,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/** A browser-like client for setting the bench up: keeps the cookies and sends the CSRF token on writes. */
export class SetupClient {
  cookies = new Map<string, string>();
  csrf: string | null = null;
  constructor(readonly base: string) {}

  get cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async call<T = any>(method: string, path: string, body?: unknown, expected = 200): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.cookies.size) headers.cookie = this.cookieHeader;
    if (this.csrf && method !== 'GET') headers['x-csrf-token'] = this.csrf;
    const res = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    for (const c of res.headers.getSetCookie()) {
      const [k, ...v] = c.split(';')[0]!.split('=');
      this.cookies.set(k!, v.join('='));
    }
    const text = await res.text();
    if (res.status !== expected) throw new Error(`${method} ${path}: expected ${expected}, got ${res.status}: ${text}`);
    const parsed = text ? (JSON.parse(text) as T) : (undefined as T);
    if (parsed && typeof parsed === 'object' && 'csrf_token' in parsed) this.csrf = (parsed as { csrf_token: string }).csrf_token;
    return parsed;
  }
}
