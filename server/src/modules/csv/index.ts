export { csvRoutes } from './csv.routes.js';
export { membersCsvRecords, ordersCsvRecords, majorUnits } from './csv.service.js';
