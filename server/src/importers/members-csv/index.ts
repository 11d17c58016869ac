export { importMembersCsv, ImportMembersOptions, MEMBER_COLUMNS, type MemberColumn, type ImportMembersSummary } from './members-csv.service.js';
