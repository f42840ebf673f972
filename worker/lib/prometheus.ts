/**
 * The Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): metric families with their
 * HELP and TYPE lines, one `name{labels} value` line per sample, histograms as cumulative
 * `_bucket{le=…}` lines ending with `+Inf`, then `_sum` and `_count`.
 */

/** The Content-Type of the format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

/** One sample of a counter or gauge. */
export interface Sample {
  labels: Labels;
  value: number;
}

/** One labelled series of a histogram. */
export interface HistogramSeries {
  labels: Labels;
  /** Cumulative: `buckets[i]` observations were at most `bounds[i]`. */
  buckets: readonly number[];
  /** Every observation, the `+Inf` bucket. */
  count: number;
  sum: number;
}

export type Family =
  | { type: 'counter' | 'gauge'; name: string; help: string; samples: readonly Sample[] }
  | {
      type: 'histogram';
      name: string;
      help: string;
      /** Upper bounds, ascending, without +Inf. */
      bounds: readonly number[];
      series: readonly HistogramSeries[];
    };

/** A label value with `\`, `"` and line feeds escaped, as the format requires. */
export function escapeLabelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

/** HELP text with `\` and line feeds escaped. */
function escapeHelp(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

/** A sample value: integers as such, `+Inf`, `-Inf` and `NaN` spelled the way the format does. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function line(name: string, labels: Labels, value: number): string {
  return `${name}${labelText(labels)} ${formatValue(value)}`;
}

/** The lines of one histogram series: cumulative buckets, `+Inf` (= count), sum and count. */
function histogramLines(
  name: string,
  bounds: readonly number[],
  series: HistogramSeries,
): string[] {
  const lines = bounds.map((bound, i) =>
    line(`${name}_bucket`, { ...series.labels, le: formatValue(bound) }, series.buckets[i] ?? 0),
  );
  lines.push(line(`${name}_bucket`, { ...series.labels, le: '+Inf' }, series.count));
  lines.push(line(`${name}_sum`, series.labels, series.sum));
  lines.push(line(`${name}_count`, series.labels, series.count));
  return lines;
}

/** The exposition text of `families`, each line ended by a line feed. */
export function renderFamilies(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    if (family.type === 'histogram') {
      for (const series of family.series) {
        lines.push(...histogramLines(family.name, family.bounds, series));
      }
    } else {
      for (const sample of family.samples)
        lines.push(line(family.name, sample.labels, sample.value));
    }
  }
  return `${lines.join('\n')}\n`;
}
