import type { Migration } from 'kysely';
import * as accounts from './2026-11-23T1500_create_accounts.js';
import * as communities from './2026-11-23T1510_create_communities.js';
import * as events from './2026-11-23T1520_create_events.js';
import * as productStock from './2026-11-23T1600_add_product_stock.js';
import * as orders from './2026-11-23T1610_create_orders.js';
import * as paymentEvents from './2026-11-23T1620_create_payment_events.js';
import * as ledger from './2026-11-23T1630_create_ledger.js';
import * as membershipOrder from './2026-11-23T1640_add_membership_order.js';
import * as membershipLifecycle from './2026-11-23T1700_membership_lifecycle.js';
import * as orderImport from './2026-11-23T1710_add_order_import.js';
import * as productTrialOf from './2026-11-23T1720_add_product_trial_of.js';
import * as orderCheckout from './2026-11-23T1800_add_order_checkout.js';
import * as refundStatus from './2026-11-23T1810_refund_status.js';
import * as refundSettledAt from './2026-11-23T1811_backfill_refund_settled_at.js';
import * as renewalGrace from './2026-11-23T1820_add_community_renewal_grace.js';
import * as paymentMethods from './2026-11-23T1821_create_member_payment_methods.js';
import * as autoRenewal from './2026-11-23T1822_membership_auto_renewal.js';
import * as orderDuplicates from './2026-11-23T1825_order_duplicates.js';
import * as membershipUpgrades from './2026-11-23T1830_membership_upgrades.js';
import * as analyticsRollups from './2026-11-24T0900_create_analytics_rollups.js';
import * as analyticsSettings from './2026-12-04T2100_create_analytics_settings.js';
import * as eventKeys from './2026-12-05T0000_create_event_keys.js';
import * as memberIdentities from './2026-12-05T0100_create_member_identities.js';
import * as memberStays from './2026-12-05T0200_create_member_stays.js';
import * as webhooks from './2026-12-05T0300_create_webhooks.js';
import * as daySets from './2026-12-05T0400_create_day_sets.js';

/** Every migration, in order. Files are frozen once merged; add new ones at the end. */
export const migrations: Record<string, Migration> = {
  '2026-11-23T1500_create_accounts': accounts,
  '2026-11-23T1510_create_communities': communities,
  '2026-11-23T1520_create_events': events,
  '2026-11-23T1600_add_product_stock': productStock,
  '2026-11-23T1610_create_orders': orders,
  '2026-11-23T1620_create_payment_events': paymentEvents,
  '2026-11-23T1630_create_ledger': ledger,
  '2026-11-23T1640_add_membership_order': membershipOrder,
  '2026-11-23T1700_membership_lifecycle': membershipLifecycle,
  '2026-11-23T1710_add_order_import': orderImport,
  '2026-11-23T1720_add_product_trial_of': productTrialOf,
  '2026-11-23T1800_add_order_checkout': orderCheckout,
  '2026-11-23T1810_refund_status': refundStatus,
  '2026-11-23T1811_backfill_refund_settled_at': refundSettledAt,
  '2026-11-23T1820_add_community_renewal_grace': renewalGrace,
  '2026-11-23T1821_create_member_payment_methods': paymentMethods,
  '2026-11-23T1822_membership_auto_renewal': autoRenewal,
  '2026-11-23T1825_order_duplicates': orderDuplicates,
  '2026-11-23T1830_membership_upgrades': membershipUpgrades,
  '2026-11-24T0900_create_analytics_rollups': analyticsRollups,
  '2026-12-04T2100_create_analytics_settings': analyticsSettings,
  '2026-12-05T0000_create_event_keys': eventKeys,
  '2026-12-05T0100_create_member_identities': memberIdentities,
  '2026-12-05T0200_create_member_stays': memberStays,
  '2026-12-05T0300_create_webhooks': webhooks,
  '2026-12-05T0400_create_day_sets': daySets,
};
