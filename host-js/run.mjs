// The Node host's benchmark: the same component as host-rs, transpiled by jco.
//
//   node host-js/run.mjs [--iterations N] [--json]
//
// Times the seed's five cells as `executeCell` round trips from JavaScript and runs the
// component's own `benchmark`; prints both tables; exits 1 when a target or criterion fails.
import { componentPath, loadEngine } from './lib.mjs';
import { stats, table } from './render.mjs';
import { statSync } from 'node:fs';

const args = process.argv.slice(2);
const json = args.includes('--json');
const at = args.indexOf('--iterations');
const iterations = at >= 0 ? Number(args[at + 1]) : 1000;
if (!Number.isInteger(iterations) || iterations < 1) {
  console.error('usage: node host-js/run.mjs [--iterations N] [--json]');
  process.exit(2);
}

const CELL_TARGET_US = 10_000;
const MEAN_TARGET_US = 8_000;
const shareUnder = (s) => (s.length ? s.filter((x) => x < CELL_TARGET_US).length / s.length : 0);

const { engine, loadMs } = await loadEngine();
const inside = engine.benchmark(iterations);

// host round trips, a fresh session per iteration, cells in the component's order
const cats = inside.categories;
const samples = cats.map(() => []);
const failed = cats.map(() => false);
for (let it = 0; it < iterations; it++) {
  const session = new engine.Session();
  cats.forEach((c, i) => {
    const t0 = performance.now();
    const r = session.executeCell(c.cell);
    samples[i].push((performance.now() - t0) * 1000);
    if (r.diagnostic !== undefined) failed[i] = true;
  });
  session[Symbol.dispose]?.();
}
const hostRows = cats.map((c, i) => {
  const st = stats(samples[i]);
  return { category: c.name, cell: c.cell, targetUs: c.targetUs, stats: st, met: !failed[i] && st.p95 < c.targetUs };
});
const all = samples.flat();
const host = {
  overallMeanUs: stats(all).mean,
  shareUnderCellTarget: shareUnder(all),
  simpleShareUnderCellTarget: shareUnder(samples[0] ?? []),
};
host.criteriaMet = host.simpleShareUnderCellTarget >= 0.95 && host.overallMeanUs < MEAN_TARGET_US && hostRows.every((r) => r.met);
const insideRows = cats.map((c) => ({
  category: c.name,
  cell: c.cell,
  targetUs: c.targetUs,
  stats: { samples: c.samples, mean: c.meanUs, p50: c.p50Us, p95: c.p95Us, p99: c.p99Us, max: c.maxUs },
  met: c.targetMet,
}));
const ok = host.criteriaMet && inside.criteriaMet;
const size = statSync(componentPath).size;

if (json) {
  const rowJson = (r) => ({
    category: r.category, cell: r.cell, target_us: r.targetUs, samples: r.stats.samples,
    mean_us: r.stats.mean, p50_us: r.stats.p50, p95_us: r.stats.p95, p99_us: r.stats.p99,
    max_us: r.stats.max, met: r.met,
  });
  console.log(JSON.stringify({
    component: { path: componentPath, bytes: size },
    host: 'jco',
    load_ms: loadMs,
    iterations,
    round_trip: {
      categories: hostRows.map(rowJson),
      overall_mean_us: host.overallMeanUs,
      share_under_cell_target: host.shareUnderCellTarget,
      simple_share_under_cell_target: host.simpleShareUnderCellTarget,
      criteria_met: host.criteriaMet,
    },
    inside_component: {
      categories: insideRows.map(rowJson),
      overall_mean_us: inside.overallMeanUs,
      share_under_cell_target: inside.shareUnderCellTarget,
      simple_share_under_cell_target: inside.simpleShareUnderCellTarget,
      criteria_met: inside.criteriaMet,
    },
    ok,
  }, null, 2));
} else {
  const pct = (x) => (x * 100).toFixed(1);
  const summary = (r) => `overall mean ${r.overallMeanUs.toFixed(2)} us; ${pct(r.shareUnderCellTarget)}% of cells under 10 ms; simple cells under 10 ms: ${pct(r.simpleShareUnderCellTarget)}%; criteria ${r.criteriaMet ? 'met' : 'NOT met'}`;
  console.log(`ruchy notebook bench (jco, Node ${process.versions.node}): ${componentPath} (${size} bytes)`);
  console.log(`load ${loadMs.toFixed(1)} ms, ${iterations} iterations\n`);
  process.stdout.write(table('Round trip of executeCell from JavaScript, microseconds', hostRows));
  console.log(summary(host) + '\n');
  process.stdout.write(table('Inside the component (WASI monotonic clock), microseconds', insideRows));
  console.log(summary(inside));
  console.log(`\nsuccess criteria (95% of simple cells under 10 ms, overall mean under 8 ms, every category under its target): ${ok ? 'met' : 'NOT met'}`);
}
process.exit(ok ? 0 : 1);
