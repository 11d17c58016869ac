export { refreshRollups, rebuildRollups, rollupGeneration, dayBounds, type RefreshReport, type RebuildReport, type RebuildProgress } from './rollups.service.js';
export { findActiveMemberIds } from './rollups.repo.js';
export { DaySetReader, membersAtDay, shiftDay } from './day-sets.service.js';
