export interface Summary {
  rps: number;
  rounds: number[];
  p50Ms?: number;
  p99Ms?: number;
  errors: number;
}

interface ReportInput {
  machine: string;
  postgres: string;
  seconds: number;
  rounds: number;
  summary: Record<string, Summary>;
  rss: { auth: number; transaction: number };
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number | undefined) => `${(n ?? NaN).toFixed(n !== undefined && n < 10 ? 2 : 1)} ms`;
const ratio = (n: number) => n.toFixed(2);
const check = (ok: boolean) => (ok ? "met" : "**not met**");

/**
 * The README's table, in markdown, from the medians of a run: each path beside its baseline,
 * the ratio, and the target with whether this run met it.
 */
export function report({ machine, postgres, seconds, rounds, summary: s, rss }: ReportInput): string {
  const get = (name: string) => {
    const found = s[name];
    if (!found) throw new Error(`no results for ${name}`);
    return found;
  };
  const ceiling = Math.max(get("pgbench16").rps, get("pgbench64").rps);
  const ceilingText = `pgbench \`transfer_money\`, best of 16/64 clients: ${int(ceiling)} tps`;
  const transfer = Math.max(get("transfer16").rps, get("transfer64").rps) / ceiling;
  const verify = get("verify").rps / get("bare").rps;
  const token = get("token").rps / get("hash").rps;
  const [h10k, h1m] = [get("history@10k").p50Ms!, get("history@1M").p50Ms!];
  const [skip, before] = [get("history_skip@1M").p50Ms!, get("history_before_id@1M").p50Ms!];
  const rows = [
    ["path", "measured (median)", "baseline (same run)", "ratio", "target"],
    ["---", "---", "---", "---", "---"],
    ["`/transfer`, 16 connections", `${int(get("transfer16").rps)} req/s`, ceilingText, ratio(get("transfer16").rps / ceiling), ""],
    [
      "`/transfer`, 64 connections",
      `${int(get("transfer64").rps)} req/s`,
      ceilingText,
      ratio(get("transfer64").rps / ceiling),
      `≥ 0.70 (better of the two): ${check(transfer >= 0.7)}`,
    ],
    [
      "`/transfer` latency, 16 connections",
      `p50 ${ms(get("transfer16").p50Ms)}, p99 ${ms(get("transfer16").p99Ms)}`,
      `pgbench, 16 clients: p50 ${ms(get("pgbench16").p50Ms)}, p99 ${ms(get("pgbench16").p99Ms)}`,
      "",
      `p99 ≤ 25 ms: ${check(get("transfer16").p99Ms! <= 25)}`,
    ],
    [
      "`/verify`, 64 connections",
      `${int(get("verify").rps)} req/s`,
      `bare \`Bun.serve\`: ${int(get("bare").rps)} req/s`,
      ratio(verify),
      `≥ 0.40: ${check(verify >= 0.4)}`,
    ],
    [
      "`/token`, 4 connections",
      `${int(get("token").rps)} req/s`,
      `\`Bun.password.verify\`, 4 at a time: ${int(get("hash").rps)}/s`,
      ratio(token),
      `≥ 0.85: ${check(token >= 0.85)}`,
    ],
    ["`/transactions?limit=50`, 10k transfers", `p50 ${ms(h10k)}`, "", "", ""],
    ["`/transactions?limit=50`, 1M transfers", `p50 ${ms(h1m)}`, `10k transfers: ${ms(h10k)}`, ratio(h1m / h10k), `≤ 1.5: ${check(h1m <= 1.5 * h10k)}`],
    ["… `skip=100000`, 1M transfers", `p50 ${ms(skip)}`, `first page: ${ms(h1m)}`, ratio(skip / h1m), "(what an offset costs)"],
    [
      "… `before_id` at depth 100,000, 1M transfers",
      `p50 ${ms(before)}`,
      `first page: ${ms(h1m)}`,
      ratio(before / h1m),
      `as fast as the first page: ${check(before <= 1.2 * h1m)}`,
    ],
    ["peak RSS, transaction service", `${int(rss.transaction)} MB`, "", "", `< 150 MB: ${check(rss.transaction < 150)}`],
    ["peak RSS, auth service", `${int(rss.auth)} MB`, "", "", `< 300 MB: ${check(rss.auth < 300)}`],
  ];
  const off = s.transfer64_metrics_off;
  const metricsCost = off
    ? [
        "",
        `metrics cost: \`/transfer\` at 64 connections, metrics on ${int(get("transfer64").rps)} req/s, off ${int(off.rps)} req/s, ` +
          `on/off ${ratio(get("transfer64").rps / off.rps)} (rounds on ${get("transfer64").rounds.join(", ")}; off ${off.rounds.join(", ")})`,
      ]
    : [];
  const errors = Object.entries(s)
    .filter(([, v]) => v.errors > 0)
    .map(([k, v]) => `${k}: ${v.errors}`);
  return [
    `Machine: ${machine}; ${postgres}. ${rounds} rounds of ${seconds} s per path (/token and its baseline ${2 * seconds} s, history pages at 1 connection), path and baseline alternating.`,
    "",
    ...rows.map((row) => `| ${row.join(" | ")} |`),
    ...metricsCost,
    "",
    `errors: ${errors.length ? errors.join(", ") : "none"}`,
    `raw medians: ${JSON.stringify(s)}`,
  ].join("\n");
}
