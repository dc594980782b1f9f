// The engine's Web Worker: loads the jco-transpiled component and keeps one notebook session.
// It only converts and calls: everything about Ruchy happens inside the component.
//
// It runs the kernel component (world `kernel`: no Rust export); the full component is fetched
// and instantiated the first time Rust export is asked for.
//
// Messages in:  { type: 'core-module', module }   the kernel's compiled core module from the page
//                                                 (with ?core=page; null: fetch it here)
//               { id, op: 'execute', source }   run a cell in the session
//               { id, op: 'exportRust', cells }   the cells as one Rust program (compile-cells of
//                                                 the full component, loaded on first use)
//               { id, op: 'complete' | 'inspect', source, cursor }   cursor: a UTF-8 byte offset
//               { id, op: 'isComplete', source }
//               { id, op: 'variables' }   every binding (asked of the session as changes since the last time)
//               { id, op: 'benchmark', iterations }   the component's benchmark and JS round trips
//               { id, op: 'memory' }
// Messages out: { type: 'ready', loadMs, memoryBytes, timeline }  once the component is loaded
//               { type: 'fatal', message }              when it cannot be loaded
//               { id, ok: true, value, workerUs } | { id, ok: false, message }
import { instantiate } from '../../gen-async-kernel/ruchy_kernel.js';
import * as cli from '@bytecodealliance/preview2-shim/cli';
import * as clocks from '@bytecodealliance/preview2-shim/clocks';
import * as io from '@bytecodealliance/preview2-shim/io';
import * as random from '@bytecodealliance/preview2-shim/random';
import { DISPOSE, roundTrips } from '../../bench.mjs';
import { wasiImports } from '../../wasi.mjs';
// jco's two small core modules (adapters of a few hundred bytes), bundled as bytes (build.mjs)
import core2 from '../../gen-async-kernel/ruchy_kernel.core2.wasm';
import core3 from '../../gen-async-kernel/ruchy_kernel.core3.wasm';

// The kernel's main core module. The worker the page starts first (boot.js, `?core=page`) gets
// it from the page, which fetched and compiled it while this worker was starting: a worker takes
// 40-90 ms to start and to run its script, and the compile no longer waits for that. Any other
// worker (after an interrupt, a restart) or a page that could not compile it fetches it here.
const CORE = 'ruchy_kernel.core.wasm';
const params = new URL(self.location.href).searchParams;
// its content hash, asked for in its URL (`?core-v=`, from boot.js: build.mjs)
const coreVersion = params.get('core-v');
const fromPage = params.get('core') === 'page'
  ? new Promise((resolve) => {
    const take = (event) => {
      if (event.data?.type !== 'core-module') return;
      self.removeEventListener('message', take);
      resolve(event.data.module ?? null);
    };
    self.addEventListener('message', take);
  })
  : Promise.resolve(null);
const BUNDLED = { 'ruchy_kernel.core2.wasm': core2, 'ruchy_kernel.core3.wasm': core3 };
const getCoreModule = async (name) => {
  if (BUNDLED[name]) return WebAssembly.compile(BUNDLED[name]);
  const url = new URL(name, import.meta.url);
  if (name === CORE && coreVersion) url.search = `?v=${coreVersion}`;
  return (name === CORE && (await fromPage)) || WebAssembly.compileStreaming(fetch(url));
};

const { engine } = await instantiate(getCoreModule, wasiImports({ cli, clocks, io, random }));
const loadMs = performance.now();

// The browser compiles a WebAssembly function when it first runs, so the first cells of a
// session pay for compiling the lexer, parser, compiler and VM (10-20 ms). While the page has
// nothing to run, the worker runs a few cells in a throwaway session, one per task, to pay that
// early; the first request stops it (`?warmup=0` turns it off).
const WARMUP = [
  'let x = 42', 'let y = x * 2 + 1', 'fun double(n: Int) -> Int { n * 2 }', 'let result = double(21)',
  'if x > 0 { x } else { 0 }', 'let xs = [1, 2, 3].map(|n| n * n)\nprintln(f"{xs} {x:>4}")',
  'struct W { a: Int }\nlet w = W { a: 1 }\nw.a', 'match x { 1 => "one", _ => "other" }',
  'var t = 0\nfor i in 0..10 { t = t + i }\nt', 'x / 0', 'nope(',
];
const warmup = { on: params.get('warmup') !== '0', next: 0, ms: 0, session: null };

function warmStep() {
  if (!warmup.on) return;
  if (warmup.next >= WARMUP.length) return stopWarmup();
  const t0 = performance.now();
  warmup.session ??= new engine.Session();
  warmup.session.executeCell(WARMUP[warmup.next++]);
  warmup.ms += performance.now() - t0;
  setTimeout(warmStep, 0);
}

function stopWarmup() {
  warmup.on = false;
  warmup.session?.[DISPOSE]?.(); // (JavaScriptCore has no Symbol.dispose: bench.mjs)
  warmup.session = null;
}

let session = new engine.Session();
const rustExport = { loading: null, loadMs: undefined };

// The variables panel's list, kept current with variables-since: after a cell only the bindings
// it bound or changed cross the boundary, however many the session has. A Map keeps each name
// where it was first bound, the order `variables` gives.
const panel = { generation: 0n, byName: new Map() };

const bundle = (b) => b.map((m) => ({ mime: m.mime, data: m.data }));
const span = (s) => ({ ...s });

function cellResult(r) {
  // The component's record, as plain data for postMessage.
  const out = { stdout: r.stdout, outputs: r.outputs.map((o) => ({ bundle: bundle(o.bundle), stdoutOffset: o.stdoutOffset })), performance: { ...r.performance } };
  if (r.display !== undefined) out.display = r.display;
  if (r.bundle !== undefined) out.bundle = bundle(r.bundle);
  if (r.diagnostic !== undefined) {
    const d = r.diagnostic;
    out.diagnostic = { kind: d.kind, message: d.message, span: span(d.span) };
  }
  return out;
}

const ops = {
  execute({ source }) {
    return cellResult(session.executeCell(source));
  },
  // the session's assistance: none of these runs code or changes the session
  complete({ source, cursor }) {
    const c = session.complete(source, cursor);
    return { replace: span(c.replace), items: c.items.map((i) => ({ label: i.label, kind: i.kind, detail: i.detail })) };
  },
  inspect({ source, cursor }) {
    const i = session.inspect(source, cursor);
    return i === undefined ? null : { span: span(i.span), markdown: i.markdown };
  },
  isComplete({ source }) {
    const c = session.isComplete(source);
    return c.tag === 'incomplete' ? { tag: c.tag, val: c.val } : { tag: c.tag };
  },
  variables() {
    const u = session.variablesSince(panel.generation);
    panel.generation = u.generation;
    for (const v of u.changed) panel.byName.set(v.name, { name: v.name, typeName: v.typeName, display: v.display });
    return [...panel.byName.values()];
  },
  benchmark({ iterations }) {
    const t0 = performance.now();
    const report = engine.benchmark(iterations);
    const insideMs = performance.now() - t0;
    const t1 = performance.now();
    const worker = roundTrips(engine, undefined, report, iterations);
    return {
      iterations,
      insideMs,
      roundTripMs: performance.now() - t1,
      report: {
        categories: report.categories.map((c) => ({ ...c })),
        overallMeanUs: report.overallMeanUs,
        shareUnderCellTarget: report.shareUnderCellTarget,
        simpleShareUnderCellTarget: report.simpleShareUnderCellTarget,
        criteriaMet: report.criteriaMet,
      },
      worker,
      memoryBytes: engine.memoryBytes(),
    };
  },
  memory() {
    return engine.memoryBytes();
  },
  // Rust export: the full component, fetched and instantiated on first use (its URL is built
  // at run time so that the bundler leaves it a separate file)
  async exportRust({ cells }) {
    const t0 = performance.now();
    rustExport.loading ??= import(new URL('./rust_export.js', import.meta.url).href);
    const { compiler } = await rustExport.loading;
    const loadMs = rustExport.loadMs ??= performance.now() - t0;
    try {
      return { ok: true, rust: compiler.compileCells(cells), loadMs };
    } catch (e) {
      // jco throws a result's error as { payload }: here the cells' diagnostics
      if (!Array.isArray(e?.payload)) throw e;
      return {
        ok: false,
        loadMs,
        errors: e.payload.map((c) => ({ cell: c.cell, source: c.source, diagnostic: { kind: c.diagnostic.kind, message: c.diagnostic.message, span: span(c.diagnostic.span) } })),
      };
    }
  },
  warmup() {
    return { cells: warmup.next, ms: warmup.ms };
  },
};

self.onmessage = async (event) => {
  if (event.data?.type === 'core-module') return; // (taken above)
  stopWarmup();
  const { id, op } = event.data;
  const t0 = performance.now();
  try {
    const value = await ops[op](event.data);
    self.postMessage({ id, ok: true, value, workerUs: (performance.now() - t0) * 1000 });
  } catch (e) {
    self.postMessage({ id, ok: false, message: String(e?.message ?? e) });
  }
};

// timeline.origin: the worker's time origin, which puts its start (and `loadMs`) on the
// page's clock for the page's bench
self.postMessage({ type: 'ready', loadMs, memoryBytes: engine.memoryBytes(), timeline: { origin: performance.timeOrigin } });
setTimeout(warmStep, 0);
