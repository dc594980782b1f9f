// The Node host's benchmark: the same component as host-rs, transpiled by jco.
//
//   node host-js/run.mjs [--iterations N] [--json]
//
// Prints the component's own benchmark, the same cells timed as `executeCell` round trips from
// JavaScript, and the session-state checks; exits 1 when a target or criterion fails.
import { statSync } from 'node:fs';
import { insideRows, roundTrips, sessionLines, sessionState } from './bench.mjs';
import { componentPath, loadEngine } from './lib.mjs';
import { table } from './render.mjs';

const args = process.argv.slice(2);
const json = args.includes('--json');
const at = args.indexOf('--iterations');
const iterations = at >= 0 ? Number(args[at + 1]) : 1000;
if (!Number.isInteger(iterations) || iterations < 1) {
  console.error('usage: node host-js/run.mjs [--iterations N] [--json]');
  process.exit(2);
}

const { engine, loadMs } = await loadEngine();
const inside = engine.benchmark(iterations);
const host = roundTrips(engine, inside, iterations);
const state = sessionState(engine);
const insideMet = inside.criteriaMet && inside.categories.every((c) => c.targetMet);
const ok = host.criteriaMet && insideMet && state.memoryMet && state.bindingsMet;
const size = statSync(componentPath).size;

if (json) {
  const rowJson = (r) => ({
    category: r.category, compute: r.compute, cell: r.cell, result: r.result, target_us: r.targetUs ?? null,
    samples: r.stats.samples, mean_us: r.stats.mean, p50_us: r.stats.p50, p95_us: r.stats.p95,
    p99_us: r.stats.p99, max_us: r.stats.max, met: r.met,
  });
  console.log(JSON.stringify({
    component: { path: componentPath, bytes: size },
    host: 'jco',
    load_ms: loadMs,
    iterations,
    round_trip: {
      categories: host.rows.map(rowJson),
      overall_mean_us: host.overallMeanUs,
      share_under_cell_target: host.shareUnderCellTarget,
      simple_share_under_cell_target: host.simpleShareUnderCellTarget,
      criteria_met: host.criteriaMet,
    },
    inside_component: {
      categories: insideRows(inside).map(rowJson),
      overall_mean_us: inside.overallMeanUs,
      share_under_cell_target: inside.shareUnderCellTarget,
      simple_share_under_cell_target: inside.simpleShareUnderCellTarget,
      criteria_met: inside.criteriaMet,
    },
    session_state: {
      memory_after_1k_bytes: Number(state.memoryAfter1k), memory_after_100k_bytes: Number(state.memoryAfter100k),
      memory_met: state.memoryMet, p50_one_binding_us: state.p50OneBindingUs,
      p50_10k_bindings_us: state.p50ManyBindingsUs, bindings_met: state.bindingsMet,
    },
    ok,
  }, null, 2));
} else {
  const pct = (x) => (x * 100).toFixed(1);
  const summary = (mean, share, simple, met) => `seed cells: overall mean ${mean.toFixed(2)} us; ${pct(share)}% under 10 ms; simple cells under 10 ms: ${pct(simple)}%; criteria ${met ? 'met' : 'NOT met'}\n`;
  console.log(`ruchy notebook bench (jco, Node ${process.versions.node}): ${componentPath} (${size} bytes)`);
  console.log(`load ${loadMs.toFixed(1)} ms, ${iterations} iterations\n`);
  process.stdout.write(table('Round trip of executeCell from JavaScript, microseconds', host.rows));
  console.log(summary(host.overallMeanUs, host.shareUnderCellTarget, host.simpleShareUnderCellTarget, host.criteriaMet));
  process.stdout.write(table('Inside the component (WASI monotonic clock), microseconds', insideRows(inside)));
  console.log(summary(inside.overallMeanUs, inside.shareUnderCellTarget, inside.simpleShareUnderCellTarget, insideMet));
  process.stdout.write(sessionLines(state));
  console.log(`\nsuccess criteria (95% of simple cells under 10 ms, overall mean under 8 ms, every seed category under its target, session state flat): ${ok ? 'met' : 'NOT met'}`);
}
process.exit(ok ? 0 : 1);
