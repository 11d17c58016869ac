export { importChat, tuneForImport, IMPORT_BATCH, NAME_ONLY_PREFIX, type ImportOptions, type ImportReport } from './imports.service.js';
export { PARSERS } from './parsers.js';
export { parseTelegram } from './telegram.js';
export type * from './records.js';
export { identityRoutes } from './identities.routes.js';
