export { membershipRoutes } from './memberships.routes.js';
export { runMembershipJobs, type MembershipJobsReport } from './memberships.jobs.js';
export { expireMemberships, sendExpiryReminders, cancelMembership, pauseMembership, setMembershipAutoRenew, REMINDER_DAYS, MAX_PAUSE_DAYS } from './memberships.service.js';
