// The notebook page in the three browser engines: the same end-to-end tests, and the same
// bench, in Chromium (V8), Firefox (SpiderMonkey) and WebKit (JavaScriptCore), each through its
// own driver (browsers.mjs), and the figures side by side.
//
//   node host-js/browser/engines.mjs [--engine chromium|firefox|webkit]... [--filter WORD]
//   node host-js/browser/engines.mjs --bench [--engine ...]... [--loads N] [--iterations N] [--json|--markdown] [--check]
//
// Without --engine, all three. Installs what is missing (firefox-esr, webkit2gtk-driver, xvfb
// and chromium with apt-get; the npm packages with `npm ci`), builds the page, serves it on a
// free localhost port. The tests are a cross-engine subset of test.mjs (which stays the full
// suite, in Chromium): what depends on the engine (the component in a Web Worker, keys in the
// editor, rendering of SVG, frames and markdown, completion popups, worker termination, file
// input, the component's benchmark in each JavaScript engine). Every test has 90 s, the whole
// run --timeout seconds (default 20 min, 30 min with --bench); a browser that hangs is killed.
// Exits 1 if anything fails (with --bench --check: also when a seed cell's p95 in the page
// misses its target or the component's benchmark misses the seed's criteria, in any engine).
// Artifacts (git-ignored): host-js/browser/artifacts/engines/ENGINE/ (failed-*.png, the
// .ipynb saved by the save/open test, notebook.png).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { browserDir, distDir, ensureBuilt } from './build.mjs';
import { ENGINES, ensureEngines, killAll, launchEngine, withTimeout } from './browsers.mjs';
import { outputOf, svgOf } from './harness.mjs';
import { startServer } from './server.mjs';

// ---------------------------------------------------------------------------------------------
// Arguments

const args = process.argv.slice(2);
const USAGE = 'usage: node host-js/browser/engines.mjs [--engine chromium|firefox|webkit]... [--filter WORD] [--timeout S]\n'
  + '       node host-js/browser/engines.mjs --bench [--engine ...]... [--loads N] [--iterations N] [--json|--markdown] [--check] [--timeout S]';
const values = (flag) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
const numArg = (flag, fallback) => (values(flag).length ? Number(values(flag)[0]) : fallback);
const bench = args.includes('--bench');
const json = args.includes('--json');
const check = args.includes('--check');
const markdown = args.includes('--markdown');
const filter = values('--filter')[0] ?? null;
const engines = values('--engine').length ? values('--engine') : ENGINES;
const loads = numArg('--loads', 5);
const iterations = numArg('--iterations', 1000);
const timeoutS = numArg('--timeout', bench ? 1800 : 1200);
const known = new Set(['--bench', '--json', '--markdown', '--check', '--engine', '--filter', '--loads', '--iterations', '--timeout']);
const bad = args.some((a, i) => a.startsWith('--') ? !known.has(a) : !['--engine', '--filter', '--loads', '--iterations', '--timeout'].includes(args[i - 1]));
if (bad || engines.some((e) => !ENGINES.includes(e)) || ![loads, iterations, timeoutS].every((n) => Number.isInteger(n) && n > 0)) {
  console.error(USAGE);
  process.exit(2);
}

const artifactsDir = join(browserDir, 'artifacts', 'engines');
const TEST_TIMEOUT_MS = 90_000;
const out = (s) => { if (!json) console.log(s); };

// The whole run is bounded: past the deadline every browser, driver and display is killed.
const watchdog = setTimeout(() => {
  console.error(`\nengines: the run did not finish within ${timeoutS} s: killing the browsers`);
  killAll();
  process.exit(1);
}, timeoutS * 1000);
watchdog.unref();

// ---------------------------------------------------------------------------------------------
// Helpers on the page interface of browsers.mjs: they wait for conditions in the page.

const cellSel = (i) => `#cells > .cell:nth-child(${i + 1})`;

/** Opens the page in a fresh profile (`example` from examples.js) and waits for the engine. */
async function openPage(ctx, query = 'example=empty') {
  const page = await ctx.engine.newPage();
  ctx.pages.push(page);
  await page.goto(`${ctx.url}?${query}`);
  await waitIdle(page);
  return page;
}

const waitIdle = (page, timeout) => page.waitFor(() => document.body.dataset.kernel === 'idle' && document.body.dataset.running === 'false' && document.body.dataset.editors === 'ready', [], { timeout, what: 'the engine to be idle and the editors loaded' });

/** Waits for cell `i` to show execution count `count` and to be finished. */
const waitForCount = (page, i, count, timeout) => page.waitFor((i, count) => {
  const el = document.querySelectorAll('#cells > .cell')[i];
  return el && (el.dataset.state === 'done' || el.dataset.state === 'error') && el.querySelector('.prompt').textContent === `[${count}]:`;
}, [i, count], { timeout, what: `cell ${i} to show [${count}]` });

const editorText = (page, i) => page.evaluate((i) => window.notebookApp.cells[i].source, i);

/** Types into cell `i`'s editor (replacing its text) with the keyboard. */
async function typeInto(page, i, text) {
  await page.click(`${cellSel(i)} .cm-content`);
  await page.press('ControlOrMeta+a');
  await page.press('Delete');
  await page.type(text);
}

/** Types `text` in cell `i`, presses Shift+Enter and waits for execution count `count`. */
async function runTyped(page, i, text, count) {
  await typeInto(page, i, text);
  assert.equal(await editorText(page, i), text, 'the editor holds what was typed');
  await page.press('Shift+Enter');
  await waitForCount(page, i, count);
  return outputOf(page, i);
}

/** Puts multi-line `text` in cell `i` (no auto-indentation), then runs it with Shift+Enter. */
async function runPasted(page, i, text, count) {
  await page.evaluate((i, text) => window.notebookApp.setText(i, text), i, text);
  await page.click(`${cellSel(i)} .cm-content`);
  await page.press('Shift+Enter');
  await waitForCount(page, i, count);
  return outputOf(page, i);
}

/** The parts of cell `i`'s output in order: printed text, display outputs, the value. */
const outputParts = (page, i) => page.evaluate((i) => {
  const el = document.querySelectorAll('#cells > .cell')[i];
  return [...el.querySelector('.output').children].map((c) => {
    const shown = c.querySelector('[data-mime]');
    return { kind: c.className, mime: shown?.dataset.mime, text: c.textContent };
  });
}, i);


// ---------------------------------------------------------------------------------------------
// The tests: the same functions in every engine.

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('the page loads and the component instantiates in a Web Worker', async (ctx) => {
  const page = await openPage(ctx, 'example=welcome');
  // whichever core modules the build ships (the page decides which it loads)
  const wasm = readdirSync(distDir).filter((f) => f.endsWith('.wasm'));
  assert.ok(wasm.length > 0, 'the build has a core module');
  const info = await page.evaluate(async (wasm) => ({
    status: document.querySelector('#kernel-status').textContent,
    isolated: window.crossOriginIsolated,
    worker: window.__ruchyBoot?.worker instanceof Worker,
    load: window.notebookApp.kernel.info.loadMs,
    cells: document.querySelectorAll('#cells > .cell').length,
    wasmTypes: await Promise.all(wasm.map(async (f) => (await fetch(f, { method: 'HEAD' })).headers.get('content-type'))),
    ua: navigator.userAgent,
  }), wasm);
  assert.equal(info.status, 'Engine: idle');
  assert.equal(info.worker, true, 'the engine runs in a Web Worker');
  assert.ok(info.load > 0, 'the worker reports how long loading the component took');
  assert.equal(info.cells, 5);
  assert.equal(info.isolated, true, 'served cross-origin isolated (fine-grained clock for timings)');
  assert.deepEqual(info.wasmTypes, wasm.map(() => 'application/wasm'), `${wasm.join(', ')} served as application/wasm`);
  const { encoding, bytes } = await page.evaluate(kernelAsSent);
  assert.ok(['br', 'gzip'].includes(encoding), `the kernel's core module is sent compressed (Content-Encoding ${encoding})`);
  ctx.log(`${info.ua}; component loaded in the worker in ${info.load.toFixed(0)} ms; the kernel's core module sent as ${encoding}, ${bytes} bytes`);
});

/** In the page: the encoding and size the server sends this browser (for its own
 * Accept-Encoding) for the kernel's core module. */
function kernelAsSent() {
  return fetch('ruchy_kernel.core.wasm', { method: 'HEAD', cache: 'no-store' })
    .then((r) => ({ encoding: r.headers.get('content-encoding') ?? 'identity', bytes: Number(r.headers.get('content-length')) }));
}

test('cells run with Shift+Enter and show value, stdout, count and timing; state is kept', async (ctx) => {
  const page = await openPage(ctx);
  let o = await runTyped(page, 0, 'let x = 42', 1);
  assert.equal(o.display, '42');
  assert.equal(o.outPrompt, 'Out[1]:');
  assert.equal(o.prompt, '[1]:');
  assert.equal(o.error, undefined);
  assert.ok(o.timing, 'a timing badge');
  assert.match(o.timing.text, /^[\d,.]+ µs (✓ under|✗ over) 10 ms$/);
  assert.ok(o.timing.totalUs >= 0);
  // Shift+Enter on the last cell adds a cell and moves into it
  assert.equal(await page.evaluate(() => document.querySelectorAll('#cells > .cell').length), 2);
  await page.waitFor(() => document.querySelector('#cells > .cell:nth-child(2) .cm-editor.cm-focused'), [], { what: 'the new cell to have the focus' });
  o = await runTyped(page, 1, 'let y = x * 2 + 1', 2);
  assert.equal(o.display, '85', 'state is kept across cells');
  o = await runTyped(page, 2, 'println(f"x = {x}, y = {y}")', 3);
  assert.equal(o.stdout, 'x = 42, y = 85\n');
  assert.equal(o.display, undefined, 'nil shows no value');
  o = await runTyped(page, 3, 'fun double(n: Int) -> Int { n * 2 }', 4);
  assert.equal(o.display, '<function>');
  o = await runTyped(page, 4, '"twice: " + double(y).to_string()', 5);
  assert.equal(o.display, '"twice: 170"');
  // Ctrl+Enter runs a cell again in place, with the next count
  await page.click(`${cellSel(1)} .cm-content`);
  await page.press('ControlOrMeta+Enter');
  await waitForCount(page, 1, 6);
  assert.equal((await outputOf(page, 1)).display, '85');
});

test('a failing cell shows its diagnostic with a caret and keeps the bindings', async (ctx) => {
  const page = await openPage(ctx);
  await runTyped(page, 0, 'let y = 85', 1);
  const o = await runTyped(page, 1, 'let z = y / 0', 2);
  assert.equal(o.state, 'error');
  assert.equal(o.errorKind, 'runtime');
  assert.equal(o.display, undefined);
  const lines = o.error.replace(/\n$/, '').split('\n');
  assert.equal(lines[0], 'Runtime error: Division by zero');
  assert.equal(lines[1].trim(), '--> In[2]:1:9');
  assert.equal(lines[3], '1 | let z = y / 0');
  assert.equal(lines[4], '  |         ^^^^^');
  assert.equal(await page.evaluate(() => document.querySelector('#cells > .cell:nth-child(2) .cm-error-span')?.textContent), 'y / 0', 'the editor underlines the span');
  assert.equal((await runTyped(page, 2, 'y', 3)).display, '85', 'y is still bound');
  assert.match((await runTyped(page, 3, 'z', 4)).error, /Undefined variable: z/, 'z never was');
  const parse = await runPasted(page, 4, 'let a = 1\nlet b = a +', 5);
  assert.equal(parse.errorKind, 'parse');
  assert.match(parse.error, /--> In\[5\]:2:\d+/);
});

test('printed text and display outputs keep their order, before an error too', async (ctx) => {
  const page = await openPage(ctx);
  await runPasted(page, 0, 'println("é one")\ndisplay(markdown("**two**"))\nprint("three ")\nprintln("ü")\ndisplay(1)\ndisplay([1, 2])\nprint("four")\n5', 1);
  const parts = await outputParts(page, 0);
  assert.deepEqual(parts.slice(0, -1).map((p) => [p.kind, p.kind === 'stdout' ? p.text : p.text.trim()]), [
    ['stdout', 'é one\n'],
    ['display-output', 'two'],
    ['stdout', 'three ü\n'],
    ['display-output', '1'],
    ['display-output', '[1, 2]'],
    ['stdout', 'four'],
    ['result', 'Out[1]:5'],
  ]);
  assert.equal(parts[parts.length - 1].kind, 'cell-meta');
  assert.equal(parts[1].mime, 'text/markdown');
  await runPasted(page, 1, 'display(7)\n1 / 0', 2);
  assert.deepEqual((await outputParts(page, 1)).map((p) => p.kind), ['display-output', 'error diagnostic kind-runtime', 'cell-meta']);
});

test('rich outputs: charts drawn as SVG images, a table in a sandboxed frame, markdown, no scripts', async (ctx) => {
  const page = await openPage(ctx);
  await runTyped(page, 0, 'line_chart([1, 2, 3], [2, 4, 3], {title: "Sales"})', 1);
  const img = await page.waitFor(() => {
    const el = document.querySelector('#cells > .cell:nth-child(1) .result img.image-output');
    return el && el.complete && { src: el.getAttribute('src'), alt: el.getAttribute('alt'), width: el.naturalWidth };
  }, [], { what: 'the chart image to load' });
  const svg = svgOf(img.src);
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal(svg.match(/class="mark"/g)?.length, 1, 'one line');
  assert.match(svg, />Sales</);
  assert.equal(img.alt, '<line chart "Sales": 3 points, x 1..3, y 2..4>');
  assert.ok(img.width > 0, 'the browser drew the SVG');
  await runTyped(page, 1, 'display(bar_chart(["a", "b", "c"], [3, 1, 2]))', 2);
  const bars = svgOf(await page.evaluate(() => document.querySelector('#cells > .cell:nth-child(2) .display-output img').getAttribute('src')));
  assert.equal(bars.match(/<rect class="mark"/g)?.length, 3);

  await runTyped(page, 2, '[{name: "Ann", age: 31}, {name: "<Bo>", age: 5}]', 3);
  const table = await page.waitFor(() => {
    const f = document.querySelector('#cells > .cell:nth-child(3) .result iframe.html-output');
    const t = f?.contentDocument?.querySelector('table');
    // (the page sizes the frame to its content once the frame has loaded)
    return t && f.getBoundingClientRect().height >= t.getBoundingClientRect().height && {
      sandbox: f.getAttribute('sandbox'),
      th: [...t.querySelectorAll('th')].map((e) => e.textContent),
      rows: [...t.querySelectorAll('tbody tr')].map((e) => e.textContent),
      frameHeight: f.getBoundingClientRect().height,
      tableHeight: t.getBoundingClientRect().height,
    };
  }, [], { what: 'the table in its frame, the frame sized to fit it' });
  assert.equal(table.sandbox, 'allow-same-origin', 'sandboxed, and never allow-scripts');
  assert.deepEqual(table.th, ['age', 'name']);
  assert.deepEqual(table.rows, ['31Ann', '5<Bo>']);
  assert.ok(table.frameHeight >= table.tableHeight, `the frame (${table.frameHeight}px) fits the table (${table.tableHeight}px)`);

  await runTyped(page, 3, 'markdown("# Title\\n\\nSome *text* <img src=x onerror=\\"window.md=1\\">")', 4);
  const md = await page.evaluate(() => {
    const el = document.querySelector('#cells > .cell:nth-child(4) .result .markdown-output');
    return { h1: el.querySelector('h1')?.textContent, em: el.querySelector('em')?.textContent, imgs: el.querySelectorAll('img').length, text: el.textContent };
  });
  assert.deepEqual([md.h1, md.em, md.imgs], ['Title', 'text', 0]);
  assert.match(md.text, /<img src=x/, 'raw HTML in markdown stays text');

  await runTyped(page, 4, 'display(html("<b>x</b><script>window.pwned=1</script><img src=x onerror=\\"window.pwned=2\\">"))', 5);
  const bold = await page.waitFor(() => {
    const f = document.querySelector('#cells > .cell:nth-child(5) .display-output iframe.html-output');
    return f?.contentDocument?.readyState === 'complete' && f.contentDocument.querySelector('b')?.textContent;
  }, [], { what: 'the HTML output' });
  assert.equal(bold, 'x');
  await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
  assert.deepEqual(await page.evaluate(() => [window.pwned ?? null, window.md ?? null, ...[...document.querySelectorAll('iframe')].map((f) => f.contentWindow.pwned ?? null)]), [null, null, null, null],
    'no script of a cell ran, in the page or in a frame');
  // the engines report the blocked script and image their own way
  ctx.allow(/Blocked script execution|Content Security Policy|Content-Security-Policy|sandbox|about:srcdoc|Refused to (execute|load)|404/i);
});

test('typing a dot opens the completion popup; Enter takes a choice; Shift+Tab inspects', async (ctx) => {
  const page = await openPage(ctx);
  await runTyped(page, 0, 'let xs = [3, 1, 2]', 1);
  await typeInto(page, 1, 'xs.');
  const options = await page.waitFor(() => {
    const items = [...document.querySelectorAll('.cm-tooltip-autocomplete li')];
    return items.length && items.map((li) => ({
      label: li.querySelector('.cm-completionLabel')?.textContent,
      kind: li.querySelector('.cm-completionKind')?.textContent,
      detail: li.querySelector('.cm-completionDetail')?.textContent,
    }));
  }, [], { what: 'the completion popup' });
  const push = options.find((o) => o.label === 'push');
  assert.ok(push, `push is offered: ${JSON.stringify(options)}`);
  assert.equal(push.kind, 'method');
  assert.match(push.detail, /push\(x: T\)/);
  await page.type('pu');
  await page.waitFor(() => [...document.querySelectorAll('.cm-tooltip-autocomplete .cm-completionLabel')].every((l) => l.textContent.startsWith('pu')), [], { what: 'the list to be filtered' });
  // CodeMirror takes no choice in the first 75 ms the popup is open (its interactionDelay)
  await page.evaluate(() => new Promise((r) => setTimeout(r, 100)));
  await page.press('Enter');
  await page.waitFor(() => window.notebookApp.cells[1].source === 'xs.push', [], { what: 'xs.push in the editor' });
  assert.equal(await page.evaluate(() => document.querySelectorAll('.cm-tooltip-autocomplete').length), 0);
  // Shift+Tab on a name shows what it is
  await runTyped(page, 1, 'fun double(n: Int) -> Int { n * 2 }', 2);
  await typeInto(page, 2, 'double');
  await page.press('ArrowLeft');
  await page.press('Shift+Tab');
  const tip = await page.waitFor(() => document.querySelector('.inspect-tooltip pre code')?.textContent, [], { what: 'the inspection tooltip' });
  assert.equal(tip, 'fun double(n: Int) -> Int\n');
  assert.equal(await editorText(page, 2), 'double', 'Shift+Tab changed nothing');
});

test('Run all runs the seed notebook in order in one session, and stops at the first error', async (ctx) => {
  const page = await openPage(ctx, 'example=seed');
  await page.click('#btn-run-all');
  await waitForCount(page, 5, 5);
  await waitIdle(page);
  const shown = await page.evaluate(() => [...document.querySelectorAll('#cells > .cell.code')].map((c) => [c.querySelector('.prompt').textContent, c.querySelector('.display')?.textContent]));
  assert.deepEqual(shown, [['[1]:', '42'], ['[2]:', '85'], ['[3]:', '<function>'], ['[4]:', '42'], ['[5]:', '42']]);
  const page2 = await openPage(ctx, 'example=empty');
  await page2.evaluate(() => window.notebookApp.setText(0, 'let a = 1'));
  await page2.click('#btn-add-code');
  await page2.type('a / 0');
  await page2.click('#btn-add-code');
  await page2.type('let never = 1');
  await page2.click('#btn-run-all');
  await waitForCount(page2, 1, 2);
  await waitIdle(page2);
  assert.equal((await outputOf(page2, 1)).errorKind, 'runtime');
  assert.equal((await outputOf(page2, 2)).prompt, '[ ]:', 'the cell after the error did not run');
});

test('Interrupt ends loop {}: the worker is terminated and the session replayed', async (ctx) => {
  const page = await openPage(ctx);
  await runTyped(page, 0, 'let keep = 7', 1);
  await runTyped(page, 1, 'fun triple(n: Int) -> Int { n * 3 }', 2);
  await typeInto(page, 2, 'loop {}');
  await page.press('Shift+Enter');
  await page.waitFor(() => document.querySelectorAll('#cells > .cell')[2].dataset.state === 'running', [], { what: 'the cell to run' });
  await page.click('#btn-interrupt');
  await waitForCount(page, 2, 3);
  const o = await outputOf(page, 2);
  assert.equal(o.state, 'error');
  if (o.errorKind === 'limit') ctx.log(`the engine's own limit ended the cell first: ${o.error.split('\n')[0]}`);
  else {
    assert.match(o.error, /^Interrupted: stopped with the Interrupt button: the engine worker was terminated$/);
    const note = await page.waitFor(() => document.querySelector('.notice[data-tag="rebuilt"]')?.textContent, [], { what: 'the rebuilt notice' });
    assert.match(note, /rebuilt by replaying 2 cells that had succeeded/);
  }
  await waitIdle(page);
  assert.equal((await runTyped(page, 3, 'triple(keep)', 4)).display, '21', 'the bindings came back');
});

test('Save .ipynb, then Open it in a fresh profile: the same notebook', async (ctx) => {
  const page = await openPage(ctx, 'example=welcome');
  await page.click('#btn-run-all');
  await waitForCount(page, 4, 4);
  await waitIdle(page);
  // what Save hands the browser to download: the anchor's file name and its blob
  await page.evaluate(() => {
    const click = HTMLAnchorElement.prototype.click;
    HTMLAnchorElement.prototype.click = function () {
      if (!this.download) return click.call(this);
      const { download: name, href } = this;
      window.__saved = fetch(href).then((r) => r.text()).then((text) => ({ name, text, href: href.slice(0, 5) }));
      return undefined;
    };
  });
  await page.click('#btn-save');
  const saved = await page.waitFor(() => window.__saved, [], { what: 'the download' });
  assert.equal(saved.name, `${await page.evaluate(() => document.querySelector('#nb-name').value)}.ipynb`, 'the file is named after the notebook');
  assert.equal(saved.href, 'blob:');
  assert.equal(saved.text, await page.evaluate(() => window.notebookApp.serialize()), 'the file is the notebook');
  const nb = JSON.parse(saved.text);
  assert.equal(nb.metadata.kernelspec.language, 'ruchy');
  assert.deepEqual(nb.cells.map((c) => c.cell_type), ['markdown', 'code', 'code', 'code', 'code']);
  assert.deepEqual(nb.cells[2].outputs.map((o) => o.output_type), ['stream', 'execute_result']);
  assert.equal(nb.cells[4].outputs[0].output_type, 'error');
  const file = join(ctx.artifacts, 'roundtrip.ipynb');
  writeFileSync(file, saved.text);
  const shown = (p) => p.evaluate(() => [...document.querySelectorAll('#cells > .cell')].map((e) => [e.querySelector('.prompt').textContent, e.classList.contains('markdown') ? e.querySelector('.rendered-markdown').textContent : e.querySelector('.output').textContent]));
  const before = await shown(page);

  // a fresh profile (nothing autosaved), the file chosen in the page's file input
  const page2 = await openPage(ctx, 'example=empty');
  await page2.setInputFiles('#file-input', file);
  await page2.waitFor(() => document.querySelector('.notice[data-tag="opened"]'), [], { what: 'the opened notice' });
  assert.equal(await page2.evaluate(() => window.notebookApp.serialize()), saved.text, 'opening then saving gives the same file');
  assert.deepEqual(await shown(page2), before, 'the page shows the same notebook');
  assert.equal(await page2.evaluate(() => document.querySelector('.cm-error-span')?.textContent), 'x / 0', 'the error span is underlined again');
});

test('the component benchmark runs in the worker and computes the same results', async (ctx) => {
  const page = await openPage(ctx, 'example=seed');
  const b = await page.evaluate(async () => {
    const b = await window.notebookApp.runBenchmark(20);
    return { categories: b.report.categories.map((c) => ({ group: c.group, cell: c.cell, display: c.display, p50: c.p50Us })), overallMeanUs: b.report.overallMeanUs };
  });
  assert.deepEqual(b.categories.filter((c) => c.group === 'seed').map((c) => c.cell),
    ['let x = 42', 'let y = x * 2 + 1', 'fun double(n: Int) -> Int { n * 2 }', 'let result = double(21)', 'if x > 0 { x } else { 0 }']);
  assert.deepEqual(b.categories.filter((c) => c.group === 'compute').map((c) => c.display),
    ['196418', '500000500000', '1000000', '500002.0', '999995', '5000', '67499550000', '10000', '100007', '1499', '99998', '1212'],
    'the compute cells did their work');
  assert.equal(await page.evaluate(() => document.querySelector('#bench-panel').dataset.state === 'met' || document.querySelector('#bench-panel').dataset.state === 'missed'), true);
  ctx.log(`20 iterations: overall mean of the seed cells ${b.overallMeanUs.toFixed(2)} us inside the component`);
  // the notebook session was not disturbed
  await page.click('#btn-run-all');
  await waitForCount(page, 5, 5);
  await waitIdle(page);
  await page.screenshot(join(ctx.artifacts, 'notebook.png'));
});

// ---------------------------------------------------------------------------------------------
// The runner: each engine in turn, a fresh profile for every page, a time limit per test.

async function closeAll(ctx) {
  for (const p of ctx.pages) await withTimeout(p.close(), 20_000, 'closing a page').catch(() => { ctx.broken = true; });
  ctx.pages = [];
}

async function runEngineTests(name, url) {
  const artifacts = join(artifactsDir, name);
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const t0 = performance.now();
  let engine;
  try {
    engine = await launchEngine(name);
  } catch (e) {
    out(`\n# ${name}\nnot ok - [${name}] the browser starts\n  ${String(e.stack ?? e).split('\n').slice(0, 14).join('\n  ')}`);
    return { engine: name, version: '?', passed: 0, failed: 1, seconds: (performance.now() - t0) / 1000 };
  }
  out(`\n# ${name}: ${engine.version} (${engine.jsEngine}; ${engine.how})`);
  const result = { engine: name, version: engine.version, passed: 0, failed: 0, seconds: 0 };
  try {
    for (const t of tests.filter((t) => !filter || t.name.includes(filter))) {
      // (a ResizeObserver loop error is the spec's notice that a resize was left for the next
      // frame, reported by some engines as an error event: benign)
      const allowed = [/the server responded with a status of 404/, /ResizeObserver loop/];
      const ctx = { engine, url, pages: [], logs: [], artifacts, log: (m) => ctx.logs.push(m), allow: (re) => allowed.push(re) };
      const start = performance.now();
      let error;
      try {
        await withTimeout(t.fn(ctx), TEST_TIMEOUT_MS, 'the test');
        for (const p of ctx.pages) if (p.collect) await p.collect();
        const errors = ctx.pages.flatMap((p) => p.errors).filter((e) => !allowed.some((re) => re.test(e)));
        if (errors.length) throw new Error(`errors in the page:\n${errors.join('\n')}`);
      } catch (e) {
        error = e;
      }
      const ms = (performance.now() - start).toFixed(0);
      if (error) {
        result.failed++;
        out(`not ok - [${name}] ${t.name} (${ms} ms)`);
        out(`  ${String(error.stack ?? error).split('\n').slice(0, 14).join('\n  ')}`);
        const last = ctx.pages[ctx.pages.length - 1];
        if (last) {
          const shot = join(artifacts, `failed-${t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
          if (await withTimeout(last.screenshot(shot), 15_000, 'a screenshot').then(() => true, () => false)) out(`  screenshot: ${shot}`);
        }
      } else {
        result.passed++;
        out(`ok - [${name}] ${t.name} (${ms} ms)`);
      }
      for (const m of ctx.logs) out(`  # ${m}`);
      await closeAll(ctx);
      if (ctx.broken || error?.message?.includes('no answer within')) {
        // a browser that hangs is killed, and the next test gets a new one
        out(`  # ${name} did not answer: killing it and launching a new one`);
        await withTimeout(engine.close(), 20_000, `closing ${name}`).catch(() => {});
        engine = null;
        engine = await launchEngine(name);
      }
    }
  } catch (e) {
    result.failed++;
    out(`not ok - [${name}] ${e.message}`);
  } finally {
    if (engine) await withTimeout(engine.close(), 30_000, `closing ${name}`).catch((e) => out(`  # ${e.message}`));
  }
  result.seconds = (performance.now() - t0) / 1000;
  out(`# ${name}: ${result.passed} passed, ${result.failed} failed in ${result.seconds.toFixed(1)} s`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// The bench: navigation to the first result (new profile, reload), the seed cells in the page,
// the component's benchmark in the page, in each engine.

const SEED = ['42', '85', '<function>', '42', '42'];

/** Waits for the autorun of the seed notebook and reads the page's timeline. */
async function timeline(page) {
  await page.waitFor(() => window.notebookApp?.metrics.firstResultAt !== undefined
    && document.body.dataset.running === 'false' && document.body.dataset.kernel === 'idle', [], { timeout: 120_000, what: 'the seed notebook to run' });
  const t = await page.evaluate(() => {
    const m = window.notebookApp.metrics;
    return {
      firstResultMs: m.firstResultAt,
      engineReadyMs: m.kernelReadyAt,
      componentLoadMs: window.notebookApp.kernel.info.loadMs,
      outputs: window.notebookApp.cells.filter((c) => c.type === 'code').map((c) => c.output?.display ?? c.output?.diagnostic?.message),
    };
  });
  if (JSON.stringify(t.outputs) !== JSON.stringify(SEED)) throw new Error(`the seed notebook gave ${JSON.stringify(t.outputs)}, expected ${JSON.stringify(SEED)}`);
  return t;
}

async function benchEngine(name, url) {
  const { stats } = await import('../render.mjs');
  const { insideMet } = await import('../bench.mjs');
  const engine = await launchEngine(name);
  const log = (s) => process.stderr.write(`[${name}] ${s}\n`);
  const pages = [];
  const seedUrl = `${url}?example=seed&autorun`;
  try {
    log(`${engine.version}: ${loads} loads in new profiles, ${loads} reloads of ${seedUrl}`);
    const cold = [];
    for (let i = 0; i < loads; i++) {
      const page = await engine.newPage();
      await page.goto(seedUrl);
      cold.push(await timeline(page));
      await withTimeout(page.close(), 20_000, 'closing a page');
    }
    const page = await engine.newPage();
    pages.push(page);
    await page.goto(seedUrl);
    await timeline(page);
    const warm = [];
    for (let i = 0; i < loads; i++) {
      await page.reload();
      warm.push(await timeline(page));
    }
    const sent = await page.evaluate(kernelAsSent);
    log(`running the seed notebook ${iterations} times in the page`);
    const runs = await page.evaluate(async (n) => {
      const app = window.notebookApp;
      app.metrics.cells.length = 0;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await app.runAll();
      return {
        wallMs: performance.now() - t0,
        failed: app.cells.filter((c) => c.output?.diagnostic || c.output?.interrupted).length,
        samples: app.metrics.cells.map((c) => [c.source, c.roundTripMs * 1000, c.totalUs]),
      };
    }, iterations);
    if (runs.failed) throw new Error(`${runs.failed} seed cells failed in the page`);
    log(`running the component's benchmark in the page (${iterations} iterations)`);
    const b = await page.evaluate(async (n) => {
      const t0 = performance.now();
      const b = await window.notebookApp.runBenchmark(n);
      return { report: b.report, wallMs: performance.now() - t0, memoryBytes: Number(b.memoryBytes) };
    }, iterations);
    if (page.collect) await page.collect();
    const errors = page.errors.filter((e) => !/status of 404|ResizeObserver loop/.test(e));
    if (errors.length) throw new Error(`errors in the page: ${errors.join('; ')}`);
    const seedCats = b.report.categories.filter((c) => c.group === 'seed');
    const cells = seedCats.map((c) => {
      const mine = runs.samples.filter((s) => s[0] === c.cell);
      const st = stats(mine.map((s) => s[1]));
      return {
        category: c.name, cell: c.cell, target_us: c.targetUs, samples: st.samples, p50_us: st.p50, p95_us: st.p95, p99_us: st.p99,
        inside_p50_us: stats(mine.map((s) => s[2])).p50, met: mine.length === iterations && st.p95 < c.targetUs,
      };
    });
    const med = (ts, k) => stats(ts.map((t) => t[k])).p50;
    const nav = (ts) => ({ first_result_ms: med(ts, 'firstResultMs'), engine_ready_ms: med(ts, 'engineReadyMs'), component_load_ms: med(ts, 'componentLoadMs'), first_result_runs_ms: ts.map((t) => Math.round(t.firstResultMs)) });
    const compCat = (c) => ({ category: c.name, group: c.group, cell: c.cell, target_us: c.targetUs ?? null, mean_us: c.meanUs, p50_us: c.p50Us, p95_us: c.p95Us, p99_us: c.p99Us, met: c.targetMet, result: c.display });
    return {
      engine: name, version: engine.version, js_engine: engine.jsEngine, driver: engine.how,
      navigation: { cold: nav(cold), warm: nav(warm) }, kernel_sent: sent,
      cells_in_page: cells, run_all_ms: runs.wallMs / iterations,
      component_benchmark: {
        iterations, wall_ms: b.wallMs, overall_mean_us: b.report.overallMeanUs, simple_share_under_10ms: b.report.simpleShareUnderCellTarget,
        criteria_met: insideMet(b.report), memory_bytes: b.memoryBytes, categories: b.report.categories.map(compCat),
      },
      page_met: cells.every((c) => c.met),
    };
  } finally {
    for (const p of pages) await withTimeout(p.close(), 20_000, 'closing a page').catch(() => {});
    await withTimeout(engine.close(), 30_000, `closing ${name}`).catch((e) => log(e.message));
  }
}

/** The figures side by side: sections of [label, one cell per engine] rows. */
function benchSections(results) {
  const f1 = (x) => x.toFixed(1);
  const f0 = (x) => x.toFixed(0);
  const mark = (met) => (met ? '' : ' !');
  const sections = [];
  sections.push({ title: null, rows: [
    ['browser', ...results.map((r) => r.version)],
    ['JavaScript and WebAssembly engine', ...results.map((r) => r.js_engine)],
  ] });
  const nav = (label, pick) => [label, ...results.map((r) => f0(pick(r)))];
  sections.push({ title: `Navigation to the first cell's result, ms after navigation start (p50 of ${loads} loads; the seed notebook runs on load)`, rows: [
    nav('new profile: first result on screen', (r) => r.navigation.cold.first_result_ms),
    nav('new profile: engine ready', (r) => r.navigation.cold.engine_ready_ms),
    nav('new profile: component load in the worker', (r) => r.navigation.cold.component_load_ms),
    nav('reload: first result on screen', (r) => r.navigation.warm.first_result_ms),
    nav('reload: engine ready', (r) => r.navigation.warm.engine_ready_ms),
    nav('reload: component load in the worker', (r) => r.navigation.warm.component_load_ms),
    ['the kernel\'s core module as sent, bytes', ...results.map((r) => `${r.kernel_sent.bytes} (${r.kernel_sent.encoding})`)],
  ] });
  const cells = results[0].cells_in_page.map((c, i) => [`\`${c.cell}\` (target ${c.target_us})`,
    ...results.map((r) => `${f0(r.cells_in_page[i].p50_us)} / ${f0(r.cells_in_page[i].p95_us)}${mark(r.cells_in_page[i].met)}`)]);
  cells.push(['inside the component, p50 of the five', ...results.map((r) => r.cells_in_page.map((c) => f0(c.inside_p50_us)).join(', '))]);
  cells.push(['Run all of the five cells, mean ms', ...results.map((r) => r.run_all_ms.toFixed(2))]);
  sections.push({ title: `The seed cells in the page: the worker round trip (performance.now()), p50 / p95 of ${iterations} runs of Run all, µs ("!": p95 over the target)`, rows: cells });
  const cats = results[0].component_benchmark.categories;
  const comp = [];
  cats.forEach((c, i) => {
    if (c.group === 'protocol') return;
    const label = c.group === 'compute' ? `${c.category}, mean` : `${c.category}, p50 / p95`;
    comp.push([label, ...results.map((r) => {
      const x = r.component_benchmark.categories[i];
      return c.group === 'compute' ? f0(x.mean_us) : `${f1(x.p50_us)} / ${f1(x.p95_us)}${mark(x.met)}`;
    })]);
  });
  comp.push(['seed cells: overall mean', ...results.map((r) => r.component_benchmark.overall_mean_us.toFixed(2))]);
  comp.push(['seed criteria and targets met', ...results.map((r) => (r.component_benchmark.criteria_met ? 'yes' : 'NO'))]);
  comp.push(['wall time of the benchmark, s', ...results.map((r) => (r.component_benchmark.wall_ms / 1000).toFixed(1))]);
  sections.push({ title: `The component's benchmark in the page's worker (engine.benchmark(${iterations}), timed inside the component with performance.now()), µs ("!": over its target)`, rows: comp });
  return sections;
}

function benchText(results, markdown) {
  const sections = benchSections(results);
  const head = ['', ...results.map((r) => r.engine)];
  const wasm = readdirSync(distDir).filter((f) => f.endsWith('.wasm')).map((f) => `${f} ${statSync(join(distDir, f)).size.toLocaleString('en-US')} bytes`);
  const lines = [`The notebook page in ${results.length} browser engines: ${cpus().length} CPUs, load average ${results.loadBefore.toFixed(2)} before and ${loadavg()[0].toFixed(2)} after (1 min); the page's ${wasm.join(', ')}`];
  if (markdown) {
    for (const sec of sections) {
      lines.push('');
      if (sec.title) lines.push(`${sec.title}:`, '');
      lines.push(`| ${head.join(' | ')} |`, `|---|${results.map(() => '---:').join('|')}|`);
      for (const r of sec.rows) lines.push(`| ${r.join(' | ')} |`);
    }
    return lines.join('\n');
  }
  const all = sections.flatMap((sec) => sec.rows);
  const w0 = Math.min(56, Math.max(...all.map((r) => r[0].length)));
  const w = results.map((_, i) => Math.max(head[i + 1].length, ...all.map((r) => r[i + 1].length)));
  const fmt = (r) => `${(r[0].length > w0 ? `${r[0].slice(0, w0 - 2)}..` : r[0]).padEnd(w0)}  ${r.slice(1).map((c, i) => c.padStart(w[i])).join('  ')}`;
  lines.push('', fmt(head));
  for (const sec of sections) {
    if (sec.title) lines.push('', sec.title);
    for (const r of sec.rows) lines.push(fmt(r));
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const t0 = performance.now();
  ensureEngines(engines);
  await ensureBuilt();
  const srv = await startServer({ port: 0, rebuild: false });
  try {
    if (bench) {
      // an engine that fails is reported, the others are still measured; the run then fails
      const all = [];
      const loadBefore = loadavg()[0];
      for (const e of engines) {
        all.push(await benchEngine(e, srv.url).catch((err) => {
          process.stderr.write(`[${e}] failed: ${err.stack ?? err}\n`);
          return { engine: e, error: String(err.message ?? err).split('\n')[0] };
        }));
      }
      const results = all.filter((r) => !r.error);
      results.loadBefore = loadBefore;
      const failed = all.filter((r) => r.error);
      const pageMet = results.every((r) => r.page_met);
      const insideOk = results.every((r) => r.component_benchmark.criteria_met);
      if (json) console.log(JSON.stringify({ loads, iterations, load_average: { before: loadBefore, after: loadavg()[0] }, engines: all }, null, 2));
      else {
        if (results.length) console.log(benchText(results, markdown));
        console.log('');
        for (const r of failed) console.log(`${r.engine}: the bench failed: ${r.error}`);
        console.log(`every seed cell's p95 in the page under its target: ${pageMet ? 'met' : 'NOT met'}${pageMet ? '' : ` (${results.filter((r) => !r.page_met).map((r) => r.engine).join(', ')}; "!" above)`}`);
        console.log(`the component's benchmark in the page met the seed's criteria and targets: ${insideOk ? 'yes' : `NO (${results.filter((r) => !r.component_benchmark.criteria_met).map((r) => r.engine).join(', ')})`}`);
        console.log(`engines bench: ${((performance.now() - t0) / 1000).toFixed(0)} s${check ? `; --check: ${pageMet && insideOk && !failed.length ? 'met' : 'NOT met'}` : ''}`);
      }
      return failed.length === 0 && (!check || (pageMet && insideOk));
    }
    const results = [];
    for (const e of engines) results.push(await runEngineTests(e, srv.url));
    const passed = results.reduce((a, r) => a + r.passed, 0);
    const failed = results.reduce((a, r) => a + r.failed, 0);
    console.log(`\nengines: ${results.map((r) => `${r.engine} (${r.version}) ${r.passed}/${r.passed + r.failed} in ${r.seconds.toFixed(0)} s`).join('; ')}; artifacts in ${artifactsDir}`);
    console.log(`${passed} passed, ${failed} failed`);
    return failed === 0 && passed > 0;
  } finally {
    await srv.close();
  }
}

main().then((ok) => process.exit(ok ? 0 : 1), (e) => {
  console.error(`engines: ${e.stack ?? e}`);
  process.exit(1);
});
