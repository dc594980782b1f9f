// The notebook page: cells with editors, the engine worker behind a watchdog, .ipynb files,
// the variables panel and the benchmark panel. The page renders the component's typed records
// (values as MIME bundles, display outputs, completions, inspections); it has no Ruchy logic.
import { Kernel, Interrupted } from './kernel.js';
import { CellEditor, editorsLoaded, loadEditors } from './cell-editor.js';
import { renderMarkdownInto } from './markdown.js';
import { EXAMPLES } from './examples.js';
import { diagnosticText, diagnosticTitle, interleave, newCellId, parseIpynb, richBundle, serializeIpynb, toIpynb } from './ipynb.js';
import { forgetOutputs, renderBundle, richest } from './outputs.js';
import { insideMet, insideRows } from '../../bench.mjs';

const params = new URLSearchParams(location.search);
const AUTOSAVE_KEY = 'ruchy-notebook:autosave';
const CELL_TARGET_US = 10_000;

// ---------------------------------------------------------------------------------------------
// The engine worker starts first, so loading the component overlaps with building the page.

function newWorker() {
  // the URL boot.js made for the first worker (the files' content hashes, warmup), which
  // fetches the core module itself
  let url = window.__ruchyBoot?.workerUrl;
  if (!url) {
    url = new URL('./worker.js', import.meta.url);
    if (params.get('warmup') === '0') url.searchParams.set('warmup', '0');
  }
  return new Worker(url, { type: 'module', name: 'ruchy-engine' });
}

const kernel = new Kernel({
  // the first worker was started by boot.js while this script loaded
  createWorker: () => {
    const boot = window.__ruchyBoot;
    if (boot && !boot.adopted) {
      boot.adopted = true;
      return boot;
    }
    return { worker: newWorker() };
  },
  cellTimeoutMs: Number(params.get('timeout')) || 12_000,
});
kernel.start();

/** Numbers for the browser benchmark and the tests (performance.now() is ms since navigation). */
const metrics = {
  mainStartAt: performance.now(),
  kernelReadyAt: undefined,
  firstResultAt: undefined,
  cells: [], // { source, roundTripMs, workerUs, totalUs, renderMs }
  rebuilds: [],
};

// ---------------------------------------------------------------------------------------------
// Small DOM helpers

const $ = (sel, root = document) => root.querySelector(sel);

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c);
  return el;
}

const fmtUs = (us) => (us < 10 ? us.toFixed(2) : us < 100 ? us.toFixed(1) : Math.round(us).toLocaleString('en-US'));

/** What a code cell's editor asks the session (completion, inspection): through the worker. */
const assist = {
  complete: (source, cursor) => kernel.complete(source, cursor),
  inspect: (source, cursor) => kernel.inspect(source, cursor),
  renderMarkdownInto,
};

// ---------------------------------------------------------------------------------------------
// The notebook

const app = {
  name: 'untitled',
  cells: [], // the model: { id, type, source, output? } (see ipynb.js)
  views: new Map(), // id -> CellView
  activeId: null,
  execCount: 0,
  queue: [], // ids of cells waiting to run
  draining: false,
  dirty: false,
};

const cellsEl = $('#cells');

class CellView {
  constructor(cell) {
    this.cell = cell;
    this.root = h('section', { class: `cell ${cell.type}`, dataset: { id: cell.id, state: 'idle' }, tabindex: '-1' });
    this.prompt = h('div', { class: 'prompt' });
    this.editorEl = h('div', { class: 'editor' });
    this.outputEl = h('div', { class: 'output', 'aria-live': 'polite' });
    this.rendered = h('div', { class: 'rendered-markdown', title: 'Double-click to edit' });
    const btn = (cls, label, title, fn) => h('button', { type: 'button', class: cls, title, 'aria-label': title, onclick: (e) => { e.stopPropagation(); fn(); } }, label);
    this.toolbar = h('div', { class: 'cell-toolbar' },
      btn('run', '▶', 'Run this cell (Shift+Enter)', () => runAndAdvance(this.cell.id)),
      btn('move-up', '↑', 'Move up', () => moveCell(this.cell.id, -1)),
      btn('move-down', '↓', 'Move down', () => moveCell(this.cell.id, 1)),
      btn('add-code', '+ code', 'Add a code cell below', () => addCell('code', this.cell.id)),
      btn('add-markdown', '+ md', 'Add a markdown cell below', () => addCell('markdown', this.cell.id)),
      btn('toggle-type', cell.type === 'code' ? 'md' : 'code', 'Change the cell type', () => toggleType(this.cell.id)),
      btn('delete', '✕', 'Delete this cell', () => deleteCell(this.cell.id)),
    );
    const body = h('div', { class: 'body' }, this.editorEl, this.rendered, this.outputEl);
    this.root.append(this.prompt, body, this.toolbar);
    this.root.addEventListener('mousedown', () => setActive(this.cell.id));
    this.rendered.addEventListener('dblclick', () => this.editMarkdown());
    this.root.addEventListener('keydown', (e) => {
      if (e.target !== this.root) return;
      if (e.key === 'Enter' && !e.shiftKey) {
        e.preventDefault();
        if (this.cell.type === 'markdown') this.editMarkdown();
        else this.focus();
      } else if (e.key === 'Enter' && e.shiftKey) {
        e.preventDefault();
        runAndAdvance(this.cell.id);
      } else if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
        e.preventDefault();
        focusNeighbour(this.cell.id, e.key === 'ArrowUp' ? -1 : 1);
      }
    });
    this.editor = new CellEditor({
      parent: this.editorEl,
      doc: cell.source,
      kind: cell.type,
      onChange: (text) => {
        this.cell.source = text;
        markDirty();
      },
      onFocus: () => setActive(this.cell.id),
      assist,
      keys: {
        run: () => { runInPlace(this.cell.id); return true; },
        runAndAdvance: () => { runAndAdvance(this.cell.id); return true; },
        runAndInsert: () => { runAndInsert(this.cell.id); return true; },
        up: () => focusNeighbour(this.cell.id, -1),
        down: () => focusNeighbour(this.cell.id, 1),
      },
    });
    if (cell.type === 'markdown') {
      this.editing = cell.source.trim() === '';
      this.showMarkdown();
    } else this.renderOutput();
  }

  focus(atEnd = false) {
    if (this.cell.type === 'markdown' && !this.editing) {
      this.root.focus();
      return;
    }
    this.editor.focus(atEnd);
  }

  setState(state) {
    this.root.dataset.state = state;
    if (state === 'queued' || state === 'running') this.prompt.textContent = '[*]:';
    else this.renderPrompt();
  }

  renderPrompt() {
    if (this.cell.type !== 'code') {
      this.prompt.textContent = '';
      return;
    }
    const n = this.cell.output?.count;
    this.prompt.textContent = `[${n ?? ' '}]:`;
  }

  // markdown cells: edit mode shows the editor, view mode the rendered text
  editMarkdown() {
    this.editing = true;
    this.showMarkdown();
    this.editor.focus();
  }

  showMarkdown() {
    this.root.classList.toggle('editing', this.editing);
    if (!this.editing) {
      const src = this.cell.source.trim();
      if (src) renderMarkdownInto(this.rendered, this.cell.source);
      else this.rendered.innerHTML = '<p class="placeholder">Empty markdown cell: double-click to edit</p>';
    }
    this.renderPrompt();
  }

  renderMarkdown() {
    this.editing = false;
    this.showMarkdown();
  }

  /** Shows the cell's output record: printed text and display outputs in the order they
   * happened, then the error with its caret or the value, count and timing. */
  renderOutput() {
    this.renderPrompt();
    const out = this.cell.output;
    forgetOutputs(this.outputEl);
    this.outputEl.replaceChildren();
    this.root.classList.toggle('has-error', Boolean(out && (out.diagnostic || out.interrupted || out.foreignError)));
    if (!out) {
      this.editor.markError(null, '');
      return;
    }
    for (const part of interleave(out.stdout ?? '', out.outputs)) {
      this.outputEl.append(part.output
        ? h('div', { class: 'display-output' }, renderBundle(part.output.bundle, renderMarkdownInto))
        : h('pre', { class: 'stdout', text: part.text }));
    }
    if (out.diagnostic) {
      this.outputEl.append(renderDiagnosticEl(out.diagnostic, out.source, out.count));
    } else if (out.interrupted) {
      this.outputEl.append(h('div', { class: 'error interrupted', role: 'alert' },
        h('span', { class: 'diag-title', text: 'Interrupted: ' }), out.interrupted));
    } else if (out.foreignError) {
      this.outputEl.append(h('pre', { class: 'error foreign', text: out.foreignError }));
    } else if (out.display !== undefined) {
      const value = renderValue(out);
      this.outputEl.append(h('div', { class: value.classList.contains('display') ? 'result' : 'result rich' },
        h('span', { class: 'out-prompt', text: `Out[${out.count ?? ' '}]:` }),
        value));
    }
    if (out.performance) this.outputEl.append(timingBadge(out));
    this.editor.markError(out.diagnostic, out.source);
  }

  destroy() {
    forgetOutputs(this.outputEl);
    this.editor.destroy();
    this.root.remove();
  }
}

/** A cell's value: its richest form (outputs.js), or its display as text. */
function renderValue(out) {
  const bundle = out.bundle ?? [{ mime: 'text/plain', data: out.display }];
  if (richest(bundle).mime === 'text/plain') return h('pre', { class: 'display', text: out.display });
  return h('div', { class: 'rich-value', title: out.display.length <= 500 ? out.display : undefined }, renderBundle(bundle, renderMarkdownInto));
}

/** The diagnostic as the terminal hosts print it (render.mjs), with the caret line marked up. */
function renderDiagnosticEl(d, source, count) {
  const lines = diagnosticText(d, source, count).replace(/\n$/, '').split('\n');
  const el = h('pre', { class: `error diagnostic kind-${d.kind}`, role: 'alert', dataset: { kind: d.kind, line: d.span.line, column: d.span.column } });
  lines.forEach((line, i) => {
    let row;
    if (i === 0) {
      const title = diagnosticTitle(d.kind);
      row = h('span', { class: 'diag-head' }, h('span', { class: 'diag-title', text: title }), line.slice(title.length));
    } else if (i === lines.length - 1) {
      const m = /^(.* \| )(\s*)(\^+)$/.exec(line);
      row = m ? h('span', { class: 'diag-caret-line' }, m[1] + m[2], h('span', { class: 'caret', text: m[3] })) : h('span', { text: line });
    } else if (i === lines.length - 2) {
      row = h('span', { class: 'diag-source', text: line });
    } else row = h('span', { class: 'diag-gutter', text: line });
    el.append(row, '\n');
  });
  return el;
}

function timingBadge(out) {
  const p = out.performance;
  const met = p.targetMet;
  const tip = `inside the component: ${fmtUs(p.totalUs)} µs (parse ${fmtUs(p.parseUs)}, compile ${fmtUs(p.compileUs)}, evaluate ${fmtUs(p.evaluateUs)})`
    + (out.roundTripMs !== undefined ? `; round trip from the page: ${(out.roundTripMs * 1000).toFixed(0)} µs` : '');
  return h('div', { class: 'cell-meta' },
    h('span', { class: `timing ${met ? 'met' : 'missed'}`, title: tip, dataset: { totalUs: p.totalUs, targetMet: met } },
      `${fmtUs(p.totalUs)} µs`, h('span', { class: 'verdict', text: met ? ' ✓ under 10 ms' : ' ✗ over 10 ms' })),
    out.roundTripMs !== undefined ? h('span', { class: 'round-trip', title: 'the worker round trip, measured in the page', text: `round trip ${(out.roundTripMs * 1000).toFixed(0)} µs` }) : null);
}

// ---------------------------------------------------------------------------------------------
// Cells: add, delete, move, focus

function setActive(id) {
  if (app.activeId === id) return;
  if (app.activeId) app.views.get(app.activeId)?.root.classList.remove('active');
  app.activeId = id;
  app.views.get(id)?.root.classList.add('active');
}

function indexOf(id) {
  return app.cells.findIndex((c) => c.id === id);
}

function mount(cell, index) {
  const view = new CellView(cell);
  app.views.set(cell.id, view);
  const next = app.cells[index + 1];
  cellsEl.insertBefore(view.root, next ? app.views.get(next.id)?.root ?? null : null);
  return view;
}

function addCell(type, afterId = app.activeId, source = '') {
  const cell = { id: newCellId(), type, source };
  const at = afterId ? indexOf(afterId) + 1 : app.cells.length;
  app.cells.splice(at, 0, cell);
  const view = mount(cell, at);
  if (type === 'markdown') view.editMarkdown();
  setActive(cell.id);
  view.focus();
  markDirty();
  return cell;
}

function deleteCell(id) {
  const i = indexOf(id);
  if (i < 0) return;
  app.queue = app.queue.filter((q) => q !== id);
  app.views.get(id).destroy();
  app.views.delete(id);
  app.cells.splice(i, 1);
  if (app.activeId === id) {
    app.activeId = null;
    const near = app.cells[Math.min(i, app.cells.length - 1)];
    if (near) setActive(near.id);
  }
  markDirty();
}

function moveCell(id, delta) {
  const i = indexOf(id);
  const j = i + delta;
  if (i < 0 || j < 0 || j >= app.cells.length) return;
  const [cell] = app.cells.splice(i, 1);
  app.cells.splice(j, 0, cell);
  const view = app.views.get(id);
  const next = app.cells[j + 1];
  cellsEl.insertBefore(view.root, next ? app.views.get(next.id).root : null);
  setActive(id);
  markDirty();
}

function toggleType(id) {
  const i = indexOf(id);
  const old = app.cells[i];
  const cell = { id: old.id, type: old.type === 'code' ? 'markdown' : 'code', source: old.source };
  app.views.get(id).destroy();
  app.views.delete(id);
  app.cells[i] = cell;
  const view = mount(cell, i);
  setActive(id);
  view.focus();
  markDirty();
}

function focusNeighbour(id, delta) {
  const next = app.cells[indexOf(id) + delta];
  if (!next) return false;
  setActive(next.id);
  app.views.get(next.id).focus(delta < 0);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Running cells: a queue, one cell at a time; an error or an interruption cancels the rest.

function runAndAdvance(id) {
  run([id]);
  const i = indexOf(id);
  const next = app.cells[i + 1];
  if (next) {
    setActive(next.id);
    app.views.get(next.id).focus();
  } else addCell('code', id);
}

function runInPlace(id) {
  run([id]);
}

function runAndInsert(id) {
  run([id]);
  addCell('code', id);
}

function runAll() {
  return run(app.cells.map((c) => c.id));
}

/** Queues cells to run; resolves when the queue is empty. Markdown cells are rendered. */
function run(ids) {
  for (const id of ids) {
    const cell = app.cells[indexOf(id)];
    if (!cell) continue;
    if (cell.type === 'markdown') {
      app.views.get(id).renderMarkdown();
      continue;
    }
    if (app.queue.includes(id)) continue;
    app.queue.push(id);
    app.views.get(id).setState('queued');
  }
  return drain();
}

let drainPromise = Promise.resolve();
function drain() {
  if (app.draining) return drainPromise;
  app.draining = true;
  updateToolbar();
  drainPromise = (async () => {
    try {
      while (app.queue.length) {
        const id = app.queue.shift();
        const ok = await runOne(id);
        if (!ok) cancelQueue();
      }
    } finally {
      app.draining = false;
      updateToolbar();
      // after the cell (or the cells of Run all): the bindings they made
      refreshVariables();
    }
  })();
  return drainPromise;
}

function cancelQueue() {
  for (const id of app.queue) app.views.get(id)?.setState('idle');
  app.queue = [];
}

/** Runs one code cell; false when it failed or was interrupted. */
async function runOne(id) {
  const cell = app.cells[indexOf(id)];
  const view = app.views.get(id);
  if (!cell || !view) return true;
  const source = cell.source;
  view.setState('running');
  const count = ++app.execCount;
  let ok = true;
  try {
    const r = await kernel.execute(source);
    const v = r.value;
    cell.output = { count, stdout: v.stdout, source, performance: v.performance, roundTripMs: r.roundTripMs };
    if (v.display !== undefined) cell.output.display = v.display;
    const rich = richBundle(v.bundle);
    if (rich) cell.output.bundle = rich;
    if (v.outputs.length) cell.output.outputs = v.outputs;
    if (v.diagnostic) {
      cell.output.diagnostic = v.diagnostic;
      ok = false;
    }
    const t0 = performance.now();
    if (app.views.get(id) === view) view.renderOutput();
    const renderedAt = performance.now();
    if (metrics.firstResultAt === undefined) {
      metrics.firstResultAt = renderedAt;
      loadEditors();
    }
    metrics.cells.push({ source, roundTripMs: r.roundTripMs, workerUs: r.workerUs, totalUs: v.performance.totalUs, renderMs: renderedAt - t0 });
    if (metrics.cells.length > 20000) metrics.cells.splice(0, 10000);
  } catch (e) {
    ok = false;
    const message = e instanceof Interrupted ? e.message : `the engine failed: ${e.message}`;
    cell.output = { count, stdout: '', source, interrupted: message };
    if (app.views.get(id) === view) view.renderOutput();
  }
  if (app.views.get(id) === view) view.setState(ok ? 'done' : 'error');
  markDirty();
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Kernel status, interrupt, restart, notices

const statusEl = $('#kernel-status');
const STATUS_TEXT = {
  starting: 'starting…', idle: 'idle', busy: 'busy', rebuilding: 'rebuilding the session…', dead: 'failed to load',
};

function updateToolbar() {
  statusEl.dataset.status = kernel.status;
  statusEl.textContent = `Engine: ${STATUS_TEXT[kernel.status] ?? kernel.status}`;
  $('#btn-interrupt').disabled = !kernel.running;
  document.body.dataset.kernel = kernel.status;
  document.body.dataset.running = app.draining ? 'true' : 'false';
}

kernel.addEventListener('status', updateToolbar);
kernel.addEventListener('ready', (e) => {
  if (metrics.kernelReadyAt === undefined) metrics.kernelReadyAt = performance.now();
  $('#engine-info').textContent = `component loaded in the worker in ${e.detail.loadMs.toFixed(0)} ms · linear memory ${Number(e.detail.memoryBytes).toLocaleString('en-US')} bytes`;
});
kernel.addEventListener('fatal', (e) => notice(`The engine could not be loaded: ${e.detail}`, 'error'));
kernel.addEventListener('rebuilt', (e) => {
  const d = e.detail;
  metrics.rebuilds.push(d);
  const why = {
    timeout: `A cell did not answer within ${(kernel.cellTimeoutMs / 1000).toFixed(kernel.cellTimeoutMs % 1000 ? 1 : 0)} s, so the engine worker was terminated.`,
    interrupt: 'Interrupted: the engine worker was terminated.',
    crash: 'The engine worker failed and was terminated.',
  }[d.reason] ?? 'The engine worker was replaced.';
  const what = d.gaveUp
    ? ` Replaying the earlier cells did not succeed, so the session was rebuilt empty${d.error ? ` (${d.error})` : ''}.`
    : ` The session was rebuilt by replaying ${d.replayed} cell${d.replayed === 1 ? '' : 's'} that had succeeded (${d.ms.toFixed(0)} ms)`
      + (d.failed.length ? `; ${d.failed.length} failed on replay and were dropped.` : '.');
  notice(why + what, d.gaveUp ? 'error' : 'info', 'rebuilt');
  refreshVariables();
});

function notice(text, kind = 'info', tag = '') {
  const el = h('div', { class: `notice ${kind}`, role: 'status', dataset: { tag } },
    h('span', { text }), h('button', { type: 'button', class: 'dismiss', title: 'Dismiss', 'aria-label': 'Dismiss', onclick: () => el.remove() }, '✕'));
  $('#notices').append(el);
  while ($('#notices').children.length > 5) $('#notices').firstElementChild.remove();
  return el;
}

async function restart() {
  cancelQueue();
  await kernel.restart().catch(() => {});
  app.execCount = 0;
  refreshVariables();
  notice('The session was restarted: every binding is gone; cells keep their outputs.', 'info', 'restarted');
}

// ---------------------------------------------------------------------------------------------
// The variables panel: the session's bindings (name, type, shortened display), asked of the
// session after each run, a restart and a rebuild.

const variablesBody = $('#variables-body');
let variablesAsked = 0;

async function refreshVariables() {
  const asked = ++variablesAsked;
  const vars = await kernel.variables();
  // a busy engine answers null: the refresh after the running cell brings the list
  if (vars === null || asked !== variablesAsked) return;
  variablesBody.replaceChildren(...vars.map((v) => h('tr', { dataset: { name: v.name } },
    h('td', { class: 'var-name', title: v.name }, h('code', { text: v.name })),
    h('td', { class: 'var-type', title: v.typeName }, h('code', { text: v.typeName })),
    h('td', { class: 'var-value', title: v.display }, h('code', { text: v.display })))));
  $('#variables-panel').dataset.count = String(vars.length);
  $('#variables-count').textContent = String(vars.length);
}

// ---------------------------------------------------------------------------------------------
// Files: .ipynb

function markDirty() {
  app.dirty = true;
  scheduleAutosave();
}

let autosaveTimer = 0;
function scheduleAutosave() {
  clearTimeout(autosaveTimer);
  autosaveTimer = setTimeout(() => {
    try {
      localStorage.setItem(AUTOSAVE_KEY, JSON.stringify({ name: app.name, ipynb: serializeIpynb(app) }));
    } catch { /* storage full or unavailable: autosave is best effort */ }
  }, 400);
}

function loadNotebook(nb, { restartSession = true } = {}) {
  cancelQueue();
  for (const v of app.views.values()) v.destroy();
  app.views.clear();
  app.activeId = null;
  app.name = nb.name || 'untitled';
  $('#nb-name').value = app.name;
  document.title = `${app.name} · Ruchy notebook`;
  app.cells = nb.cells.map((c) => ({ id: c.id ?? newCellId(), type: c.type, source: c.source, ...(c.output ? { output: c.output } : {}) }));
  if (!app.cells.length) app.cells.push({ id: newCellId(), type: 'code', source: '' });
  app.cells.forEach((c, i) => mount(c, i));
  setActive(app.cells[0].id);
  if (restartSession && kernel.status !== 'starting') {
    kernel.restart().catch(() => {}).then(refreshVariables);
    app.execCount = 0;
  }
  app.dirty = false;
}

function fileName() {
  const base = (app.name || 'untitled').trim().replace(/[\\/:*?"<>|]+/g, '_') || 'untitled';
  return base.endsWith('.ipynb') ? base : `${base}.ipynb`;
}

/** Downloads the session as a Rust program (compile-cells of the cells that succeeded). */
async function exportRust() {
  const button = $('#btn-export-rust');
  button.disabled = true;
  try {
    const r = await kernel.exportRust();
    app.lastRustExport = r;
    if (!r.ok) {
      const e = r.errors[0];
      notice(`Cell ${e.cell} of the ${kernel.succeeded.length} that ran cannot be exported to Rust: ${e.diagnostic.message}`, 'error', 'export-error');
      return;
    }
    const base = fileName().replace(/\.ipynb$/, '');
    const url = URL.createObjectURL(new Blob([r.rust], { type: 'text/x-rust' }));
    const a = h('a', { href: url, download: `${base}.rs` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    notice(`Exported ${kernel.succeeded.length} cells as ${base}.rs (${r.rust.split('\n').length} lines of Rust).`, 'info', 'exported');
  } catch (e) {
    notice(`Rust export failed: ${e.message}`, 'error', 'export-error');
  } finally {
    button.disabled = false;
  }
}

function save() {
  const text = serializeIpynb(app);
  const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ipynb+json' }));
  const a = h('a', { href: url, download: fileName() });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  app.dirty = false;
}

async function open(file) {
  try {
    const nb = parseIpynb(await file.text(), file.name.replace(/\.ipynb$/i, ''));
    loadNotebook(nb);
    if (nb.language && nb.language !== 'ruchy') notice(`This notebook was written for ${nb.language}; its cells will run as Ruchy.`, 'info');
    notice(`Opened ${file.name}: ${nb.cells.length} cells. The session is fresh: run the cells to bring their bindings back.`, 'info', 'opened');
  } catch (e) {
    notice(`Could not open ${file.name}: ${e.message}`, 'error', 'open-error');
  }
}

// ---------------------------------------------------------------------------------------------
// The benchmark panel: the component's own benchmark and the executeCell round trips from
// JavaScript inside the worker (host-js/bench.mjs), as the seed's table.

const benchPanel = $('#bench-panel');

/** The line above the first row of a group (the seed and compile rows have none). */
const GROUP_HEADINGS = {
  compute: 'compute cells, outside the 10 ms rule (result shown instead of a target):',
  protocol: 'notebook protocol: questions asked of a session with 1,000 bindings (met when the p99 is under the target):',
};

function benchTable(title, rows) {
  const head = ['category', 'cell', 'target', 'mean', 'p50', 'p95', 'p99', 'max', 'met'];
  const num = (x) => h('td', { class: 'num', text: x.toFixed(2) });
  const body = [];
  let group = null;
  for (const r of rows) {
    if (r.group !== group) {
      group = r.group;
      if (GROUP_HEADINGS[group]) body.push(h('tr', { class: 'group' }, h('td', { colspan: head.length, text: GROUP_HEADINGS[group] })));
    }
    body.push(h('tr', { class: r.group === 'compute' ? 'compute' : r.met ? 'met' : 'missed', dataset: { category: r.category, group: r.group } },
      h('td', { text: r.category }),
      h('td', { class: 'code' }, h('code', { text: r.cell.replaceAll('\n', '; ') })),
      h('td', { class: 'num', text: r.targetUs === undefined ? '-' : String(r.targetUs) }),
      num(r.stats.mean), num(r.stats.p50), num(r.stats.p95), num(r.stats.p99), num(r.stats.max),
      h('td', { class: 'verdict', text: r.group === 'compute' ? `= ${r.result}` : r.met ? 'yes' : 'NO' })));
  }
  return h('section', { class: 'bench-table' },
    h('h3', { text: title }),
    h('table', {}, h('thead', {}, h('tr', {}, head.map((x) => h('th', { text: x })))), h('tbody', {}, body)));
}

const pct = (x) => `${(x * 100).toFixed(1)}%`;
const summary = (mean, share, simple, met) => h('p', { class: `bench-summary ${met ? 'met' : 'missed'}`, text:
  `seed cells: overall mean ${mean.toFixed(2)} µs; ${pct(share)} under 10 ms; simple cells under 10 ms: ${pct(simple)}; criteria ${met ? 'met' : 'NOT met'}` });

async function runBenchmark(iterations) {
  const out = $('#bench-output');
  const button = $('#bench-run');
  button.disabled = true;
  out.replaceChildren(h('p', { class: 'bench-status', text: `running ${iterations} iterations in the worker…` }));
  benchPanel.dataset.state = 'running';
  try {
    const t0 = performance.now();
    const { value: b } = await kernel.benchmark(iterations);
    const wallMs = performance.now() - t0;
    const inside = insideRows(b.report);
    const insideOk = insideMet(b.report);
    out.replaceChildren(
      h('p', { class: 'bench-status', text: `${iterations} iterations of each seed cell, ${b.report.categories.find((c) => c.group === 'compute')?.samples ?? 0} of each compute cell; ${navigator.userAgent.match(/(Chrome|Firefox|Safari)\/[\d.]+/)?.[0] ?? 'browser'}; ${wallMs.toFixed(0)} ms in all; linear memory ${Number(b.memoryBytes).toLocaleString('en-US')} bytes` }),
      benchTable('Inside the component (WASI monotonic clock), microseconds', inside),
      summary(b.report.overallMeanUs, b.report.shareUnderCellTarget, b.report.simpleShareUnderCellTarget, insideOk),
      benchTable('Round trip of executeCell from JavaScript in the worker, microseconds', b.worker.rows),
      summary(b.worker.overallMeanUs, b.worker.shareUnderCellTarget, b.worker.simpleShareUnderCellTarget, b.worker.criteriaMet),
    );
    benchPanel.dataset.state = insideOk && b.worker.criteriaMet ? 'met' : 'missed';
    return b;
  } catch (e) {
    out.replaceChildren(h('p', { class: 'bench-status error', text: `the benchmark did not finish: ${e.message}` }));
    benchPanel.dataset.state = 'failed';
    throw e;
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring

$('#btn-new').addEventListener('click', () => {
  if (app.dirty && !confirm('Discard this notebook and start a new one?')) return;
  loadNotebook({ name: 'untitled', cells: [{ type: 'code', source: '' }] });
  app.views.get(app.cells[0].id).focus();
});
$('#btn-open').addEventListener('click', () => $('#file-input').click());
$('#file-input').addEventListener('change', (e) => {
  const file = e.target.files?.[0];
  e.target.value = '';
  if (file) open(file);
});
$('#btn-save').addEventListener('click', save);
$('#btn-export-rust').addEventListener('click', exportRust);
$('#btn-add-code').addEventListener('click', () => addCell('code'));
$('#btn-add-markdown').addEventListener('click', () => addCell('markdown'));
$('#btn-run-all').addEventListener('click', () => runAll());
$('#btn-interrupt').addEventListener('click', () => kernel.interrupt());
$('#btn-restart').addEventListener('click', () => restart());
$('#btn-clear').addEventListener('click', () => {
  for (const c of app.cells) {
    delete c.output;
    const v = app.views.get(c.id);
    if (c.type === 'code') { v.renderOutput(); v.setState('idle'); }
  }
  markDirty();
});
$('#btn-bench').addEventListener('click', () => {
  benchPanel.hidden = !benchPanel.hidden;
  $('#btn-bench').setAttribute('aria-expanded', String(!benchPanel.hidden));
});
$('#bench-close').addEventListener('click', () => { benchPanel.hidden = true; });
$('#bench-run').addEventListener('click', () => {
  const n = Math.max(1, Math.min(100_000, Number($('#bench-iterations').value) || 1000));
  runBenchmark(n).catch(() => {});
});
$('#nb-name').addEventListener('change', (e) => {
  app.name = e.target.value.trim() || 'untitled';
  document.title = `${app.name} · Ruchy notebook`;
  markDirty();
});
document.addEventListener('keydown', (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === 's') {
    e.preventDefault();
    save();
  } else if ((e.ctrlKey || e.metaKey) && e.key === 'o') {
    e.preventDefault();
    $('#file-input').click();
  }
});
// Drop an .ipynb file on the page to open it.
document.addEventListener('dragover', (e) => e.preventDefault());
document.addEventListener('drop', (e) => {
  const file = e.dataTransfer?.files?.[0];
  if (!file) return;
  e.preventDefault();
  open(file);
});
window.addEventListener('beforeunload', () => {
  clearTimeout(autosaveTimer);
  try {
    localStorage.setItem(AUTOSAVE_KEY, JSON.stringify({ name: app.name, ipynb: serializeIpynb(app) }));
  } catch { /* best effort */ }
});

// The first notebook: ?example=NAME, else the autosaved one, else the welcome notebook.
function initialNotebook() {
  const example = params.get('example');
  if (example && EXAMPLES[example]) return structuredClone(EXAMPLES[example]);
  if (!params.has('fresh')) {
    try {
      const saved = JSON.parse(localStorage.getItem(AUTOSAVE_KEY) ?? 'null');
      if (saved?.ipynb) return parseIpynb(saved.ipynb, saved.name);
    } catch { /* a broken autosave: start from the welcome notebook */ }
  }
  return structuredClone(EXAMPLES.welcome);
}

loadNotebook(initialNotebook(), { restartSession: false });
updateToolbar();
if (params.has('autorun')) runAll();
// The editors load once the first result is on screen, or now when no cell waits to run, or
// when the user starts to use the page (cell-editor.js); a cell that fails before any result
// (an engine that does not load) ends the wait too.
if (!app.draining) loadEditors();
else drainPromise.finally(loadEditors);
for (const type of ['pointerdown', 'keydown']) document.addEventListener(type, loadEditors, { once: true, capture: true });
editorsLoaded.then(
  () => { document.body.dataset.editors = 'ready'; },
  (e) => notice(`The editors could not be loaded (${e?.message ?? e}): cells show their text but cannot be edited; reload the page.`, 'error'),
);

/** For the end-to-end tests and the browser benchmark. */
window.notebookApp = {
  metrics,
  kernel,
  runAll,
  run: (index) => run([app.cells[index].id]),
  runBenchmark,
  exportRust,
  get lastRustExport() { return app.lastRustExport; },
  toIpynb: () => toIpynb(app),
  serialize: () => serializeIpynb(app),
  get cells() { return app.cells; },
  idle: async () => { await drainPromise; while (kernel.rebuilding) await kernel.rebuilding; },
  refreshVariables,
  setText: (index, text) => app.views.get(app.cells[index].id).editor.setText(text),
};
