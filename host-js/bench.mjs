// The Node host's benchmark logic, the same steps as host-rs/src/bench.rs: the component's
// own benchmark, the same cells as round trips from JavaScript, and two session-state checks.
import { stats } from './render.mjs';

export const CELL_TARGET_US = 10_000;
export const MEAN_TARGET_US = 8_000;
export const REPEATS = 100_000;
export const BINDINGS = 10_000;
/** Untimed runs before the timed ones (the component's benchmark does as many). */
export const WARM_UP_RUNS = 100;
const MAX_RATIO = 2;

/** The key jco's resources are disposed with: `Symbol.dispose`, or where the engine has none
 * (JavaScriptCore: WebKit, Safari) `Symbol.for('dispose')`, as jco's output falls back to.
 * Without it a session is only dropped by the garbage collector's finalizer, and in WebKit that
 * intermittently broke a live session of the same instance (the protocol rows' `v7 += 1`:
 * "Undefined variable: v7", about 1 run in 3 of `engine.benchmark(1000)` and the round trips). */
export const DISPOSE = Symbol.dispose ?? Symbol.for('dispose');

const shareUnder = (s) => (s.length ? s.filter((x) => x < CELL_TARGET_US).length / s.length : 0);
const utf8Length = (s) => new TextEncoder().encode(s).length;

/**
 * A notebook-protocol question as the benchmark writes it (host-rs/src/bench.rs `Query`):
 * `complete SOURCE` / `inspect SOURCE` with `<|>` at the cursor (a byte offset), `is-complete
 * SOURCE`, `variables`, `variables-changed CELL` (`variablesSince` after the untimed CELL);
 * `\n` is a newline. Returns `{ prepare(session), ask(session, since) }`, or null.
 */
export function protocolQuery(text) {
  const space = text.indexOf(' ');
  const [verb, rest] = space < 0 ? [text, ''] : [text.slice(0, space), text.slice(space + 1)];
  const source = rest.replaceAll('\\n', '\n');
  const at = source.indexOf('<|>');
  const without = source.replace('<|>', '');
  const cursor = utf8Length(source.slice(0, at));
  const none = () => 0n;
  if ((verb === 'complete' || verb === 'inspect') && at < 0) return null;
  if (verb === 'complete') {
    return { prepare: none, ask: (s) => { const c = s.complete(without, cursor); return `${c.items.length} candidates: ${c.items.slice(0, 3).map((i) => i.label).join(', ')}`; } };
  }
  if (verb === 'inspect') return { prepare: none, ask: (s) => s.inspect(without, cursor)?.markdown.split('\n')[1] ?? 'none' };
  if (verb === 'is-complete') {
    return { prepare: none, ask: (s) => { const c = s.isComplete(source); return c.tag === 'incomplete' ? `incomplete ${utf8Length(c.val)}` : c.tag; } };
  }
  if (verb === 'variables') return { prepare: none, ask: (s) => `${s.variables().length} variables` };
  if (verb === 'variables-changed') {
    return {
      // untimed: the cell, and the generation before it (changes since the largest: none)
      prepare: (s) => {
        const before = s.variablesSince(2n ** 64n - 1n).generation;
        const r = s.executeCell(source);
        if (r.diagnostic !== undefined) throw new Error(`${source}: ${r.diagnostic.message}`);
        return before;
      },
      ask: (s, since) => { const u = s.variablesSince(since); return `${u.changed.length} changed: ${u.changed.map((v) => v.name).join(', ')}`; },
    };
  }
  return null;
}

/** Times each cell's `executeCell` round trip from JavaScript; the compute rows only if
 * `compute` (a re-measurement of the tails keeps the first one's). */
export function roundTrips(engine, compiler, report, iterations, compute = true) {
  const cats = report.categories;
  const samples = cats.map(() => []);
  const failed = cats.map(() => false);
  const results = cats.map(() => '');
  const seed = cats.map((c, i) => i).filter((i) => cats[i].group === 'seed');
  const compileProgram = (c) => (c.setup ? `${c.setup}\n${c.cell}` : c.cell);
  // untimed warm-up, as the component's own benchmark does (V8 compiles hot functions late)
  // at least WARM_UP_RUNS rounds and one second: V8 tiers the engine up for ~350 ms
  const warmUntil = performance.now() + 1000;
  for (let it = 0; it < WARM_UP_RUNS || performance.now() < warmUntil; it++) {
    const session = new engine.Session();
    for (const i of seed) session.executeCell(cats[i].cell);
    session[DISPOSE]?.();
    for (const c of cats.filter((c) => c.group === 'compile')) compiler.compile(compileProgram(c));
  }
  for (let it = 0; it < Math.max(iterations, 1); it++) {
    const session = new engine.Session();
    for (const i of seed) {
      const t0 = performance.now();
      const r = session.executeCell(cats[i].cell);
      samples[i].push((performance.now() - t0) * 1000);
      if (r.diagnostic !== undefined) failed[i] = true;
      results[i] = r.display ?? '';
    }
    session[DISPOSE]?.();
  }
  // compile rows: `compile` of the setup and the cell as one program
  cats.forEach((c, i) => {
    if (c.group !== 'compile') return;
    const program = compileProgram(c);
    for (let it = 0; it < Math.max(iterations, 1); it++) {
      const t0 = performance.now();
      let rust;
      try {
        rust = compiler.compile(program);
      } catch {
        failed[i] = true; // jco throws a result's error
        continue;
      }
      samples[i].push((performance.now() - t0) * 1000);
      results[i] = `${rust.split('\n').length - (rust.endsWith('\n') ? 1 : 0)} lines of Rust`;
    }
  });
  cats.forEach((c, i) => {
    if (c.group !== 'compute' || !compute) return;
    for (let k = 0; k < Math.max(c.samples, 1); k++) {
      const session = new engine.Session();
      if (c.setup && session.executeCell(c.setup).diagnostic !== undefined) failed[i] = true;
      const t0 = performance.now();
      const r = session.executeCell(c.cell);
      samples[i].push((performance.now() - t0) * 1000);
      if (r.diagnostic !== undefined) failed[i] = true;
      results[i] = r.display ?? '';
      session[DISPOSE]?.();
    }
  });
  // protocol rows: the questions asked of one session made by the category's setup
  const protocol = cats.map((c, i) => i).filter((i) => cats[i].group === 'protocol');
  if (protocol.length) {
    const session = new engine.Session();
    const setupFailed = session.executeCell(cats[protocol[0]].setup).diagnostic !== undefined;
    for (const i of protocol) {
      failed[i] ||= setupFailed;
      const q = protocolQuery(cats[i].cell);
      if (!q) {
        failed[i] = true;
        continue;
      }
      // untimed first, as the cells are: V8 compiles the functions a question uses late
      for (let it = 0; it < WARM_UP_RUNS; it++) q.ask(session, q.prepare(session));
      for (let it = 0; it < Math.max(iterations, 1); it++) {
        const since = q.prepare(session);
        const t0 = performance.now();
        const answer = q.ask(session, since);
        samples[i].push((performance.now() - t0) * 1000);
        results[i] = answer;
      }
    }
    session[DISPOSE]?.();
  }
  const rows = cats.map((c, i) => {
    const st = stats(samples[i]);
    // protocol rows are met on their p99, the others on their p95
    const tail = c.group === 'protocol' ? st.p99 : st.p95;
    return {
      category: c.name, group: c.group, cell: c.cell, result: results[i],
      targetUs: c.targetUs, stats: st, met: !failed[i] && (c.targetUs === undefined || tail < c.targetUs),
    };
  });
  const seedSamples = seed.flatMap((i) => samples[i]);
  const out = {
    rows,
    overallMeanUs: stats(seedSamples).mean,
    shareUnderCellTarget: shareUnder(seedSamples),
    simpleShareUnderCellTarget: seed.length ? shareUnder(samples[seed[0]]) : 0,
  };
  out.criteriaMet = hostCriteria(out);
  return out;
}

/** The seed's criteria over round trips (`roundTrips`' result): the simple cells 95% under
 * 10 ms, the mean under its target, every row's target met but those of the `exempt` groups
 * (the protocol rows are a goal of ours, not a seed criterion: protocolMet). */
export function hostCriteria(h, exempt = ['protocol']) {
  return h.simpleShareUnderCellTarget >= 0.95 && h.overallMeanUs < MEAN_TARGET_US && h.rows.every((r) => r.met || exempt.includes(r.group));
}

/** The seed's criteria of the component's report, as the engine works them out, again after
 * some of its categories were replaced by a later run's. */
export function insideCriteria(report) {
  return report.simpleShareUnderCellTarget >= 0.95 && report.overallMeanUs < MEAN_TARGET_US && report.categories.every((c) => c.targetMet || c.group !== 'seed');
}

/** The component's own report met its criteria and every target but those of the `exempt`
 * groups (by default the protocol rows': a goal of ours, protocolMet). */
export function insideMet(report, exempt = ['protocol']) {
  return report.criteriaMet && report.categories.every((c) => c.targetMet || exempt.includes(c.group));
}

/** Every notebook-protocol question answered with a p99 under its target, in round trips from
 * JavaScript and inside the component. */
export function protocolMet(host, report) {
  const rows = host.rows.filter((r) => r.group === 'protocol');
  return rows.length > 0 && rows.every((r) => r.met) && report.categories.filter((c) => c.group === 'protocol').every((c) => c.targetMet);
}

/** The component's own report as table rows. */
export function insideRows(report) {
  return report.categories.map((c) => ({
    category: c.name, group: c.group, cell: c.cell, result: c.display, targetUs: c.targetUs,
    stats: { samples: c.samples, mean: c.meanUs, p50: c.p50Us, p95: c.p95Us, p99: c.p99Us, max: c.maxUs },
    met: c.targetMet,
  }));
}

/** The inside p50 of `let x = 42` in each of two sessions, their runs alternating so that both
 * see the same machine (its speed swings 2-3x between tenths of a second: README, "Noise"). */
function simpleCellP50s(a, b) {
  const inA = [];
  const inB = [];
  for (let i = 0; i < 2000; i++) {
    inA.push(a.executeCell('let x = 42').performance.totalUs);
    inB.push(b.executeCell('let x = 42').performance.totalUs);
  }
  return [stats(inA).p50, stats(inB).p50];
}

/** Session state that must not grow: re-running a cell, and many bindings. */
export function sessionState(engine) {
  const s = new engine.Session();
  for (let i = 0; i < 1000; i++) s.executeCell('let x = 42');
  const memoryAfter1k = engine.memoryBytes();
  for (let i = 1000; i < REPEATS; i++) s.executeCell('let x = 42');
  const memoryAfter100k = engine.memoryBytes();
  s[DISPOSE]?.();
  const one = new engine.Session();
  one.executeCell('let v0 = 0');
  const many = new engine.Session();
  for (let i = 0; i < BINDINGS; i++) many.executeCell(`let v${i} = ${i}`);
  const [p50One, p50Many] = simpleCellP50s(one, many);
  one[DISPOSE]?.();
  many[DISPOSE]?.();
  return {
    memoryAfter1k, memoryAfter100k, memoryMet: memoryAfter100k === memoryAfter1k,
    p50OneBindingUs: p50One, p50ManyBindingsUs: p50Many, bindingsMet: p50Many <= MAX_RATIO * p50One,
  };
}

export function sessionLines(st) {
  const growth = st.memoryMet ? 'no growth' : `grew by ${st.memoryAfter100k - st.memoryAfter1k} bytes`;
  return 'Session state\n'
    + `linear memory after 1,000 runs of \`let x = 42\`: ${st.memoryAfter1k} bytes; after ${REPEATS}: ${st.memoryAfter100k} bytes (${growth})  ${st.memoryMet ? 'met' : 'NOT met'}\n`
    + `\`let x = 42\` inside the component, p50: ${st.p50OneBindingUs.toFixed(2)} us with 1 binding, ${st.p50ManyBindingsUs.toFixed(2)} us with ${BINDINGS} bindings (${(st.p50ManyBindingsUs / Math.max(st.p50OneBindingUs, 1e-9)).toFixed(2)}x, at most ${MAX_RATIO}x)  ${st.bindingsMet ? 'met' : 'NOT met'}\n`;
}

/** The seed's working-set budget, checked against the guest's linear memory (10 MB). */
export const MEMORY_BUDGET = 10 * 1024 * 1024;
/** Our goals: process start to the first result under 80 ms, seed p99 at most 60 us. */
export const PROCESS_START_GOAL_MS = 80;
export const P99_GOAL_US = 60;
export const MORE_CELLS = 10_000;
export const PROCESS_RUNS = 10;

/** Wall time of fresh `node host-js/eval.mjs 'let x = 42'` processes, and of `node -e 0`
 * (Node's own start, which no host code can go below). */
export function processStart(spawnSync, evalScript) {
  const time = (args, check, component) => {
    const ms = [];
    const env = component ? { ...process.env, RUCHY_COMPONENT: component } : process.env;
    for (let i = 0; i < PROCESS_RUNS; i++) {
      const t = performance.now();
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', env });
      ms.push(performance.now() - t);
      if (check && (r.status !== 0 || r.stdout !== '42\n')) {
        throw new Error(`node ${args.join(' ')} printed ${JSON.stringify(r.stdout)} (status ${r.status})`);
      }
    }
    return stats(ms);
  };
  // each component once; `evalMs` is the one this process runs (RUCHY_COMPONENT, lib.mjs)
  const fullMs = time([evalScript, 'let x = 42'], true, 'full');
  const kernelMs = time([evalScript, 'let x = 42'], true, 'kernel');
  const evalMs = process.env.RUCHY_COMPONENT === 'kernel' ? kernelMs : fullMs;
  return { evalMs, fullMs, kernelMs, nodeMs: time(['-e', '0'], false) };
}

/** Guest memory after the bench and after MORE_CELLS more seed cells; the host's RSS. */
export function memory(engine, seedCells) {
  const afterRun = Number(engine.memoryBytes());
  const s = new engine.Session();
  for (let i = 0; i < MORE_CELLS; i++) s.executeCell(seedCells[i % seedCells.length]);
  s[DISPOSE]?.();
  const afterMore = Number(engine.memoryBytes());
  return { afterRun, afterMore, hostRss: process.memoryUsage().rss, met: afterMore <= MEMORY_BUDGET };
}
