import type { Actor } from './access.js';

interface Entry<T> {
  value: T;
  until: number;
}

/** A live session as the guard needs it; `id` is the hash stored in the database. */
export interface CachedSession {
  id: string;
  user_id: string;
  csrf_token: string;
  expires_at: string;
}

/**
 * Who a session is and what role its user holds in a community, remembered for a few seconds:
 * resolving them took two queries on every request and most of a member lookup's time (bench/).
 * Sessions are keyed by their cookie token so a hit needs no hashing. This node forgets an entry at
 * once when it changes here (logout, password change, staff and group changes); another node of a
 * multi-node install may honour it for up to `ttlMs`.
 */
export class AuthCache {
  private sessions = new Map<string, Entry<CachedSession | null>>();
  private actors = new Map<string, Entry<Actor | null>>();

  constructor(
    private readonly ttlMs = 5000,
    private readonly max = 50_000,
  ) {}

  private static read<T>(map: Map<string, Entry<T>>, key: string, now: number): { value: T } | undefined {
    const e = map.get(key);
    if (!e) return undefined;
    if (e.until <= now) {
      map.delete(key);
      return undefined;
    }
    return { value: e.value };
  }

  private write<T>(map: Map<string, Entry<T>>, key: string, value: T, now: number) {
    if (map.size >= this.max) map.clear();
    map.set(key, { value, until: now + this.ttlMs });
  }

  /** The cached answer for a session token: undefined when not cached, null when known to be invalid. */
  peekSession(token: string, now: number) {
    return AuthCache.read(this.sessions, token, now)?.value;
  }

  async session(token: string, now: number, load: () => Promise<CachedSession | null>) {
    const hit = AuthCache.read(this.sessions, token, now);
    if (hit) return hit.value;
    const value = await load();
    this.write(this.sessions, token, value, now);
    return value;
  }

  peekActor(userId: string, communityId: string, now: number) {
    return AuthCache.read(this.actors, `${userId} ${communityId}`, now)?.value;
  }

  async actor(userId: string, communityId: string, now: number, load: () => Promise<Actor | null>) {
    const key = `${userId} ${communityId}`;
    const hit = AuthCache.read(this.actors, key, now);
    if (hit) return hit.value;
    const value = await load();
    this.write(this.actors, key, value, now);
    return value;
  }

  forgetSession(id: string) {
    for (const [k, e] of this.sessions) if (e.value?.id === id) this.sessions.delete(k);
  }

  forgetUser(userId: string) {
    for (const [k, e] of this.sessions) if (e.value?.user_id === userId) this.sessions.delete(k);
    for (const k of this.actors.keys()) if (k.startsWith(`${userId} `)) this.actors.delete(k);
  }

  forgetCommunity(communityId: string) {
    for (const k of this.actors.keys()) if (k.endsWith(` ${communityId}`)) this.actors.delete(k);
  }
}
