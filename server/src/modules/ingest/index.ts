export { ingestRoutes } from './ingest.routes.js';
export { ingestEvents, type IngestResult } from './ingest.service.js';
