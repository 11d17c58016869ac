/** Limits shared by the server's validation and the console's forms. */
export const LIMITS = {
  name: 120,
  slug: 60,
  email: 254,
  passwordMin: 10,
  passwordMax: 256,
  longText: 4000,
  shortText: 200,
  listItems: 50,
  groupCapacityMax: 100_000,
  /** WeChat groups cap at 500; it is the default capacity of a new group. */
  defaultGroupCapacity: 500,
  questions: 20,
  criteria: 10,
  pageSize: 200,
  /** Days after a membership's expiry in which a renewal still extends it and access is kept. */
  renewalGraceDaysMax: 60,
} as const;
