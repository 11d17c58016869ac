import type { ColumnType, Generated } from 'kysely';

/** ISO-8601 UTC text. PostgreSQL's timestamptz is parsed into the same text by db/kysely.ts. */
export type Timestamp = string;
/** Read as object (PostgreSQL jsonb) or text (SQLite); always written as JSON text. Decode with codecs.json. */
export type JsonColumn = ColumnType<unknown, string, string>;
/** 0/1 on both dialects, so booleans never drift between them. */
export type Flag = number;

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  is_install_owner: ColumnType<Flag, Flag | undefined, Flag>;
  created_at: Timestamp;
  password_changed_at: Timestamp;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  csrf_token: string;
  ip: string | null;
  user_agent: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface LoginAttemptsTable {
  key: string;
  failures: number;
  window_started_at: Timestamp;
  locked_until: Timestamp | null;
}

export interface WorkspacesTable {
  id: string;
  name: string;
  is_demo: ColumnType<Flag, Flag | undefined, Flag>;
  created_at: Timestamp;
}

export interface WorkspaceMembersTable {
  workspace_id: string;
  user_id: string;
  role: string;
  created_at: Timestamp;
}

export interface InstallSettingsTable {
  key: string;
  value: JsonColumn;
}

export interface CommunitiesTable {
  id: string;
  workspace_id: string;
  slug: string;
  name: string;
  value_proposition: string;
  values: JsonColumn;
  type: string;
  monetization_modes: JsonColumn;
  time_zone: string;
  currency: string;
  rules: JsonColumn;
  threshold: JsonColumn;
  is_demo: ColumnType<Flag, Flag | undefined, Flag>;
  /** Days after a membership's expiry in which access is kept and a renewal extends from the expiry. */
  renewal_grace_days: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CommunityRolesTable {
  community_id: string;
  user_id: string;
  role: string;
  created_at: Timestamp;
}

export interface GroupsTable {
  id: string;
  community_id: string;
  name: string;
  tags: JsonColumn;
  capacity: number;
  seated_count: ColumnType<number, number | undefined, number>;
  status: string;
  monitor_user_id: string | null;
  leader_user_id: string | null;
  threshold: ColumnType<unknown, string | null, string | null>;
  created_from_link_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EntryLinksTable {
  id: string;
  community_id: string;
  code: string;
  name: string;
  channel: string;
  owner_user_id: string | null;
  owner_member_id: string | null;
  group_ids: JsonColumn;
  overflow_template: ColumnType<unknown, string | null, string | null>;
  segment_rules: JsonColumn;
  expires_at: Timestamp | null;
  max_uses: number | null;
  uses: ColumnType<number, number | undefined, number>;
  visits: ColumnType<number, number | undefined, number>;
  status: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface MembersTable {
  id: string;
  community_id: string;
  external_id: string | null;
  display_name: string;
  nickname: string | null;
  status: string;
  profile: JsonColumn;
  token_hash: string;
  entry_link_id: string | null;
  channel: string | null;
  referrer_member_id: string | null;
  current_group_id: string | null;
  introduction: string | null;
  rules_accepted_at: Timestamp | null;
  introduced_at: Timestamp | null;
  onboarded_at: Timestamp | null;
  first_joined_at: Timestamp | null;
  last_joined_at: Timestamp | null;
  left_at: Timestamp | null;
  removal_reason: string | null;
  banned: ColumnType<Flag, Flag | undefined, Flag>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface MemberSpansTable {
  id: string;
  community_id: string;
  member_id: string;
  group_id: string;
  entry_link_id: string | null;
  referrer_member_id: string | null;
  joined_at: Timestamp;
  left_at: Timestamp | null;
  left_kind: string | null;
}

export interface ApplicationsTable {
  id: string;
  community_id: string;
  member_id: string;
  entry_link_id: string | null;
  threshold: JsonColumn;
  answers: JsonColumn;
  reviews: JsonColumn;
  status: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  decided_at: Timestamp | null;
}

export interface ProductsTable {
  id: string;
  community_id: string;
  type: string;
  name: string;
  price_minor: number;
  currency: string;
  term: string | null;
  term_days: number | null;
  group_ids: JsonColumn;
  status: string;
  /** Units or seats left; null is unlimited. */
  stock: ColumnType<number | null, number | null | undefined, number | null>;
  /** The full product this product is a trial of (续班 target); null when not a trial. */
  trial_of_product_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface MembershipsTable {
  id: string;
  community_id: string;
  member_id: string;
  product_id: string;
  source: string;
  granted_by_user_id: string | null;
  starts_at: Timestamp;
  expires_at: Timestamp | null;
  created_at: Timestamp;
  order_id: ColumnType<string | null, string | null | undefined, string | null>;
  revoked_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  ended_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  cancelled_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  cancel_reason: ColumnType<string | null, string | null | undefined, string | null>;
  paused_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  paused_until: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  /** When this period's automatic renewal first failed; retries are counted from it. */
  past_due_since: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  /** `cancelled`, `payment_failed` or `not_renewed`, set with `ended_at`. */
  end_reason: ColumnType<string | null, string | null | undefined, string | null>;
  /** Why it was revoked: `refunded` or `upgraded`. */
  revoke_reason: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A member's periods of one product renew automatically while `auto_renew` is 1. */
export interface MembershipChainsTable {
  member_id: string;
  product_id: string;
  community_id: string;
  auto_renew: Flag;
  updated_at: Timestamp;
}

/** One charge of a period's renewal: attempt 0 is the first, 1… the retries; each at most once. */
export interface MembershipRenewalAttemptsTable {
  membership_id: string;
  attempt: number;
  order_id: string;
  attempted_at: Timestamp;
  /** `charging` until the provider answers, then `succeeded`, `pending` or `failed`. */
  outcome: string;
  reason: string | null;
}

export interface MemberPaymentMethodsTable {
  id: string;
  community_id: string;
  member_id: string;
  provider: string;
  ref: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  revoked_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  revoke_reason: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface MembershipRemindersTable {
  membership_id: string;
  days_before: number;
  sent_at: Timestamp;
}

export interface OrdersTable {
  id: string;
  community_id: string;
  member_id: string;
  product_id: string;
  status: string;
  amount_minor: number;
  refunded_minor: ColumnType<number, number | undefined, number>;
  currency: string;
  idempotency_key: string;
  request_hash: string;
  provider: string;
  provider_ref: string | null;
  checkout_token_hash: string;
  stock_reserved: ColumnType<Flag, Flag | undefined, Flag>;
  membership_id: string | null;
  paid_at: Timestamp | null;
  cancelled_at: Timestamp | null;
  cancel_reason: string | null;
  /** `checkout` (bought here) or `import` (CSV import). */
  source: ColumnType<string, string | undefined, string>;
  /** Hash of the normalized CSV row of an imported order; unique per community. */
  import_key: ColumnType<string | null, string | null | undefined, string | null>;
  /** The membership period a renewal order renews. */
  renews_membership_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** A pending order with this set expires then, not after the unpaid-order timeout. */
  pay_until: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  /** `redirect` or `qr` once the provider started a checkout; null before. */
  checkout_kind: ColumnType<string | null, string | null | undefined, string | null>;
  /** The payment page (redirect) or the code URL to show as a QR code. */
  checkout_url: ColumnType<string | null, string | null | undefined, string | null>;
  /** The provider's id of the checkout (Stripe Checkout Session), apart from the payment's `provider_ref`. */
  checkout_ref: ColumnType<string | null, string | null | undefined, string | null>;
  /** Claimed by refunds still waiting for the provider; `refunded_minor + refund_pending_minor <= amount_minor`. */
  refund_pending_minor: ColumnType<number, number | undefined, number>;
  /** The member confirmed buying again what they hold or are already paying for. */
  allow_duplicate: ColumnType<Flag, Flag | undefined, Flag>;
  /** Set when the payment repeated another paid order of the same member and product; it granted nothing. */
  duplicate_of_order_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Unused part of the replaced membership chain taken off the price (upgrades). */
  credit_minor: ColumnType<number, number | undefined, number>;
  upgrade_from_membership_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RefundsTable {
  id: string;
  community_id: string;
  order_id: string;
  amount_minor: number;
  currency: string;
  reason: string;
  idempotency_key: string | null;
  request_hash: string | null;
  provider_ref: string | null;
  actor_user_id: string | null;
  created_at: Timestamp;
  /** `pending` until the provider confirms (`succeeded`) or refuses (`failed`). */
  status: ColumnType<string, string | undefined, string>;
  settled_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  failure_reason: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface PaymentEventsTable {
  id: string;
  provider: string;
  event_id: string | null;
  type: string | null;
  community_id: string | null;
  order_id: string | null;
  payload: ColumnType<unknown, string | null, string | null>;
  received_at: Timestamp;
  processed_at: Timestamp | null;
  outcome: string;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  community_id: string;
  order_id: string;
  refund_id: string | null;
  account: string;
  amount_minor: number;
  currency: string;
  created_at: Timestamp;
}

export interface ApiKeysTable {
  id: string;
  community_id: string;
  name: string;
  key_hash: string;
  prefix: string;
  scopes: JsonColumn;
  created_by_user_id: string | null;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface EventsTable {
  id: Generated<number>;
  community_id: string;
  type: string;
  occurred_at: Timestamp;
  member_id: string | null;
  group_id: string | null;
  entry_link_id: string | null;
  channel: string | null;
  referrer_member_id: string | null;
  actor_user_id: string | null;
  props: JsonColumn;
  recorded_at: Timestamp;
}

/** One member's activity in one group ('' = none) on one local day of the community (issue 5 rollups). */
export interface AnalyticsMemberDaysTable {
  community_id: string;
  day: string;
  member_id: string;
  group_id: string;
  engagement: number;
  messages: number;
  posts: number;
  replies: number;
  reactions: number;
  check_ins: number;
  attended: number;
  replies_received: number;
  reactions_received: number;
  negative_received: number;
  reports_received: number;
  ads: number;
}

/** Community figures of one local day, in total (`dim` 'all') and per group, channel, staff owner and referrer. */
export interface AnalyticsDaysTable {
  community_id: string;
  day: string;
  dim: string;
  key: string;
  link_visits: number;
  applications: number;
  joins: number;
  leaves: number;
  onboarded: number;
  engagement: number;
  messages: number;
  member_replies: number;
  ads: number;
  orders_paid: number;
  gmv_minor: number;
  refunds_minor: number;
  active_members: number;
  /** Messages + posts + replies by members. */
  conversation: number;
}

/** UTC hours ('YYYY-MM-DDTHH', or '*' for everything) whose rollups must be recomputed. */
export interface AnalyticsDirtyTable {
  community_id: string;
  hour: string;
  tx: number;
}

/** A community's analytics thresholds (AnalyticsSettings); no row means the defaults. */
export interface AnalyticsSettingsTable {
  community_id: string;
  settings: JsonColumn;
  updated_at: Timestamp;
}

/** A member's stay: their overlapping membership spans merged (rollups module; derived, rebuildable). */
export interface MemberStaysTable {
  community_id: string;
  member_id: string;
  start_at: Timestamp;
  end_at: Timestamp | null;
  /** End of the member's previous stay; null for their first. */
  prev_end_at: Timestamp | null;
  referred: number;
}

/** A buyer's first and second paid order instants (rollups module; derived, rebuildable). */
export interface MemberPurchasesTable {
  community_id: string;
  member_id: string;
  first_paid_at: Timestamp;
  second_paid_at: Timestamp | null;
}

/** Bumped by every rollup refresh or rebuild that changes a community's rows (rollups module). */
export interface AnalyticsGenerationsTable {
  community_id: string;
  generation: number;
}

/** A member's first group, by their first span (rollups module; derived, rebuildable). */
export interface MemberFirstsTable {
  community_id: string;
  member_id: string;
  group_id: string;
}

/** Per local day: stays started and ended, first and second paid orders of buyers (rollups module). */
export interface AnalyticsFlowDaysTable {
  community_id: string;
  day: string;
  stay_starts: number;
  stay_ends: number;
  first_purchases: number;
  second_purchases: number;
  /** Paid orders' amounts and settled refunds of the day, in the community currency. */
  gmv_minor: number;
  refunds_minor: number;
  /** Live order memberships ending that day, and the renewed among them (membership_renewals). */
  expiring: number;
  renewed: number;
}

/** A live order membership with an end, and whether it was renewed (rollups module; derived). */
export interface MembershipRenewalsTable {
  community_id: string;
  membership_id: string;
  member_id: string;
  expires_at: Timestamp;
  renewed: number;
}

/** A paid order of a trial product, and whether the full product followed in the window (rollups module; derived). */
export interface TrialOrdersTable {
  community_id: string;
  order_id: string;
  member_id: string;
  product_id: string;
  paid_at: Timestamp;
  converted: number;
}

/** A member's dense number in its community, which the day sets are indexed by (rollups module). */
export interface MemberOrdinalsTable {
  community_id: string;
  member_id: string;
  n: number;
}

/** A set of members (by ordinal) per community, kind and local day (rollups/day-sets.ts). */
export interface AnalyticsDaySetsTable {
  community_id: string;
  kind: string;
  day: string;
  members: number;
  bits: Uint8Array;
}

/** An outside event's idempotency key, claimed with its event (imports, the ingest API). */
export interface WebhookSubscriptionsTable {
  id: string;
  community_id: string;
  url: string;
  description: string | null;
  /** JSON array of event types, or ["*"]. */
  event_types: string;
  secret: string;
  status: string;
  disabled_reason: string | null;
  failed_deliveries_in_a_row: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookSubscriptionTypesTable {
  community_id: string;
  event_type: string;
  subscription_id: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  community_id: string;
  subscription_id: string;
  event_id: ColumnType<number, number, number>;
  event_type: string;
  payload: string;
  status: string;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp | null;
  locked_until: Timestamp | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Timestamp;
  delivered_at: Timestamp | null;
  updated_at: Timestamp;
}

export interface WebhookAttemptsTable {
  id: string;
  community_id: string;
  delivery_id: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  attempted_at: Timestamp;
  next_attempt_at: Timestamp | null;
}

export interface EventKeysTable {
  community_id: string;
  source: string;
  key: string;
  created_at: Timestamp;
}

/** A platform's name for a member (imports); unique per (community, platform, external_id). */
export interface MemberIdentitiesTable {
  id: string;
  community_id: string;
  platform: string;
  external_id: string;
  member_id: string;
  display_names: JsonColumn;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  login_attempts: LoginAttemptsTable;
  workspaces: WorkspacesTable;
  workspace_members: WorkspaceMembersTable;
  member_identities: MemberIdentitiesTable;
  install_settings: InstallSettingsTable;
  communities: CommunitiesTable;
  community_roles: CommunityRolesTable;
  groups: GroupsTable;
  entry_links: EntryLinksTable;
  members: MembersTable;
  member_spans: MemberSpansTable;
  applications: ApplicationsTable;
  products: ProductsTable;
  memberships: MembershipsTable;
  membership_reminders: MembershipRemindersTable;
  membership_chains: MembershipChainsTable;
  membership_renewal_attempts: MembershipRenewalAttemptsTable;
  member_payment_methods: MemberPaymentMethodsTable;
  orders: OrdersTable;
  refunds: RefundsTable;
  payment_events: PaymentEventsTable;
  ledger_entries: LedgerEntriesTable;
  api_keys: ApiKeysTable;
  events: EventsTable;
  analytics_member_days: AnalyticsMemberDaysTable;
  analytics_days: AnalyticsDaysTable;
  analytics_dirty: AnalyticsDirtyTable;
  analytics_settings: AnalyticsSettingsTable;
  event_keys: EventKeysTable;
  member_stays: MemberStaysTable;
  member_purchases: MemberPurchasesTable;
  member_firsts: MemberFirstsTable;
  analytics_generations: AnalyticsGenerationsTable;
  analytics_flow_days: AnalyticsFlowDaysTable;
  member_ordinals: MemberOrdinalsTable;
  membership_renewals: MembershipRenewalsTable;
  trial_orders: TrialOrdersTable;
  analytics_day_sets: AnalyticsDaySetsTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_subscription_types: WebhookSubscriptionTypesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}
