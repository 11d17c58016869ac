export { importOrdersCsv, ImportFileError, IMPORT_COLUMNS, type ImportColumn, type ImportOrdersOptions, type ImportSummary } from './orders-csv.service.js';
export { parseAmount, parsePaidAt, parseInstant, parseCurrency, CURRENCY_MINOR_UNITS } from './orders-csv.parse.js';
