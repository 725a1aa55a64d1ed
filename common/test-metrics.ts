/** What the metrics tests share: reading an exposition, and having Prometheus's own tool check it. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  text: string;
  samples: Sample[];
  /** The sum of the samples of `name` whose labels include `labels`; undefined when there is none. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const match = SAMPLE.exec(line);
    if (!match || line.startsWith("#")) continue;
    const labels = Object.fromEntries([...(match[2] ?? "").matchAll(LABEL)].map((m) => [m[1]!, m[2]!]));
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return {
    text,
    samples,
    value(name, labels = {}) {
      const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      return found.length === 0 ? undefined : found.reduce((sum, s) => sum + s.value, 0);
    },
  };
}

export async function scrape(metricsUrl: string): Promise<Exposition> {
  const response = await fetch(metricsUrl);
  if (response.status !== 200) throw new Error(`${metricsUrl}: ${response.status}`);
  return parseExposition(await response.text());
}

/** `promtool check metrics` parses the exposition as Prometheus does and lints names, types and help. */
export function promtoolCheckMetrics(text: string): { exitCode: number; output: string } {
  const run = Bun.spawnSync(["promtool", "check", "metrics"], { stdin: new TextEncoder().encode(text) });
  return { exitCode: run.exitCode, output: `${run.stdout}${run.stderr}` };
}

const seriesKey = (s: Sample) =>
  `${s.name}${
    Object.keys(s.labels).length
      ? `{${Object.entries(s.labels)
          .map(([k, v]) => `${k}="${v}"`)
          .join(",")}}`
      : ""
  }`;

/**
 * The series whose names match `watch` that changed between two scrapes, as `name{labels}` to
 * the change; a test compares the whole map, so that a series that moved and should not have fails too.
 */
export function moved(before: Exposition, after: Exposition, watch: RegExp): Record<string, number> {
  const was = new Map(before.samples.map((s) => [seriesKey(s), s.value]));
  const changes: Record<string, number> = {};
  for (const sample of after.samples.filter((s) => watch.test(s.name))) {
    const change = sample.value - (was.get(seriesKey(sample)) ?? 0);
    if (change !== 0) changes[seriesKey(sample)] = change;
  }
  return changes;
}
