export { importOrdersCsv, ImportFileError, IMPORT_COLUMNS, type ImportColumn, type ImportOrdersOptions, type ImportSummary } from './orders-csv.service.js';
export { parseAmount, parsePaidAt, parseCurrency, CURRENCY_MINOR_UNITS } from './orders-csv.parse.js';
