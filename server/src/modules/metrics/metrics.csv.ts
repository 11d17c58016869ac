import { MetricsOut, REPORT_HEADER } from '../../../../contracts/src/index.js';
import { csvRecord } from '../../lib/csv.js';

/** Columns of the metrics CSV: one line per figure of GET …/metrics (docs/import.md#exporting). */
export const METRICS_CSV_COLUMNS = ['metric', 'kind', 'value', 'numerator', 'denominator', 'currency', 'reason'];

// The figures in the order the contract lists them, so a new figure gets its line without an edit here.
const FIGURES = Object.keys(MetricsOut.shape).filter((k) => !(k in REPORT_HEADER)) as (keyof MetricsOut)[];

type Cell = string | number | null | undefined;

function figureLine(metric: string, v: MetricsOut[keyof MetricsOut]): Cell[] {
  if (typeof v === 'number') return [metric, 'count', v];
  if (typeof v !== 'object') throw new Error(`metrics CSV: ${metric} is not a figure`);
  if ('amount_minor' in v) return [metric, 'money', v.amount_minor, null, null, v.currency];
  if ('currency' in v) return [metric, 'money_per_person', v.value, v.numerator, v.denominator, v.currency];
  if ('numerator' in v) return [metric, 'rate', v.value, v.numerator, v.denominator, null, v.reason];
  throw new Error(`metrics CSV: ${metric} is not a figure`);
}

/**
 * The figures of a metrics answer as CSV with a header line: counts, rates (value = numerator ÷
 * denominator, empty when the denominator is 0), money in minor units, and money per person (value
 * in minor units, not rounded). The period and definitions version are those of the request.
 */
export function metricsCsv(m: MetricsOut): string {
  const line = (k: keyof MetricsOut) => {
    const cells = figureLine(k, m[k]);
    return csvRecord(METRICS_CSV_COLUMNS.map((_, i) => cells[i]));
  };
  return csvRecord(METRICS_CSV_COLUMNS) + FIGURES.map(line).join('');
}
