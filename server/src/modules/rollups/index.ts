export { refreshRollups, rebuildRollups, rollupGeneration, type RefreshReport, type RebuildReport, type RebuildProgress } from './rollups.service.js';
export { findActiveMemberIds } from './rollups.repo.js';
