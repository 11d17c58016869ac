import type { Migration } from 'kysely';
import * as accounts from './2026-11-23T1500_create_accounts.js';
import * as communities from './2026-11-23T1510_create_communities.js';
import * as events from './2026-11-23T1520_create_events.js';

/** Every migration, in order. Files are frozen once merged; add new ones at the end. */
export const migrations: Record<string, Migration> = {
  '2026-11-23T1500_create_accounts': accounts,
  '2026-11-23T1510_create_communities': communities,
  '2026-11-23T1520_create_events': events,
};
