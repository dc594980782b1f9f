// End-to-end tests of the notebook page in headless Chromium (Debian's package, driven by
// playwright-core). Installs what is missing (chromium with apt-get, the npm packages with
// `npm ci`), builds the page, serves it on a free localhost port and runs the tests.
//
//   node host-js/browser/test.mjs [--headed] [--filter WORD]
//
// Exits 1 if any test fails. Artifacts (git-ignored) go to host-js/browser/artifacts/: a
// screenshot of a worked notebook (notebook.png), of the benchmark panel (benchmark.png), of a
// reopened notebook of charts and tables (rich-outputs.png), the notebooks saved by the
// save/open tests (roundtrip.ipynb, rich.ipynb), and a screenshot of each failing test.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { distDir } from './build.mjs';
import { artifactsDir, cell, cells, openPage, outputOf, runTests, svgOf, waitForCount, waitIdle } from './harness.mjs';

// ---------------------------------------------------------------------------------------------
// Helpers: they wait for conditions in the page, never for fixed times.

/** Types into cell `i`'s editor (replacing its text) the way a person would. */
async function typeInto(page, i, text) {
  const content = cell(page, i).locator('.cm-content');
  await content.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Delete');
  await page.keyboard.type(text);
}

/** Pastes multi-line text into cell `i`'s editor (no auto-indentation on the way). */
async function pasteInto(page, i, text) {
  const content = cell(page, i).locator('.cm-content');
  await content.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.insertText(text);
}

const editorText = (page, i) => page.evaluate((i) => window.notebookApp.cells[i].source, i);

/** Types `text` in cell `i`, presses Shift+Enter and waits for execution count `count`. */
async function runTyped(page, i, text, count) {
  await typeInto(page, i, text);
  assert.equal(await editorText(page, i), text, 'the editor holds what was typed');
  await page.keyboard.press('Shift+Enter');
  await waitForCount(page, i, count);
  return outputOf(page, i);
}

/** What each cell shows: prompt, then rendered markdown or outputs. */
async function shown(page) {
  return page.$$eval('#cells > .cell', (els) => els.map((e) => {
    const out = e.querySelector('.output').cloneNode(true);
    return [e.querySelector('.prompt').textContent, e.classList.contains('markdown') ? e.querySelector('.rendered-markdown').innerHTML : out.innerHTML];
  }));
}

/** Clicks a button of cell `i`'s toolbar, which shows when the pointer is over the cell. */
async function cellAction(page, i, name) {
  await cell(page, i).hover();
  await cell(page, i).locator(`.cell-toolbar .${name}`).click();
}

async function cellIds(page) {
  return cells(page).evaluateAll((els) => els.map((e) => e.dataset.id));
}

// ---------------------------------------------------------------------------------------------
// The tests

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('the page loads the kernel component in a worker', async (ctx) => {
  const page = await openPage(ctx, 'example=welcome');
  const info = await page.evaluate(() => ({
    status: document.querySelector('#kernel-status').textContent,
    isolated: window.crossOriginIsolated,
    load: window.notebookApp.kernel.info.loadMs,
    cells: document.querySelectorAll('#cells > .cell').length,
  }));
  assert.equal(info.status, 'Engine: idle');
  assert.ok(info.load > 0, 'the worker reports how long loading the component took');
  assert.equal(info.cells, 5);
  assert.equal(info.isolated, true, 'served cross-origin isolated (fine-grained clock for timings)');
  const wasm = await page.evaluate(async () => {
    const r = await fetch('ruchy_kernel.core.wasm', { method: 'HEAD' });
    return r.headers.get('content-type');
  });
  assert.equal(wasm, 'application/wasm');
  assert.deepEqual(await fetchedWasm(page), ['ruchy_kernel.core.wasm'], 'only the kernel is fetched on load');
});

test('on load the first results come before the editors, and the page compiles the kernel for its worker', async (ctx) => {
  const page = await openPage(ctx, 'example=seed&autorun');
  const t = await page.evaluate(() => {
    const resources = performance.getEntriesByType('resource');
    const started = (part) => resources.find((e) => e.name.includes(part))?.startTime;
    return {
      firstResultAt: window.notebookApp.metrics.firstResultAt,
      editorsAt: started('/chunks/editor-'),
      pageFetchedCore: started('ruchy_kernel.core.wasm') !== undefined,
      coreCompiledAt: window.__ruchyBoot.core.compiledAt,
      mainBytes: resources.find((e) => new URL(e.name).pathname.endsWith('/main.js'))?.decodedBodySize,
      // what came over the wire for the kernel's core module, and what it unpacked to
      core: resources.filter((e) => new URL(e.name).pathname.endsWith('/ruchy_kernel.core.wasm')).map((e) => [e.encodedBodySize, e.decodedBodySize])[0],
      outputs: window.notebookApp.cells.filter((c) => c.type === 'code').map((c) => c.output?.display),
    };
  });
  assert.deepEqual(t.outputs, ['42', '85', '<function>', '42', '42']);
  assert.ok(t.editorsAt > t.firstResultAt, `the editors' chunk was asked for at ${t.editorsAt} ms, after the first result at ${t.firstResultAt} ms`);
  assert.ok(t.pageFetchedCore && t.coreCompiledAt > 0, 'the page fetched and compiled the core module');
  const workerFetched = await page.workers()[0].evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.endsWith('.wasm')));
  assert.deepEqual(workerFetched, [], 'the worker fetched no WebAssembly: it was handed the compiled module');
  assert.ok(t.mainBytes < 100_000, `the page's first script is small (${t.mainBytes} bytes): no editors or markdown in it`);
  const [sent, unpacked] = t.core;
  assert.ok(unpacked > 500_000 && sent < unpacked / 2, `the kernel's core module came compressed: ${sent} bytes for ${unpacked}`);
  assert.equal(await cells(page).locator('.cm-editor').count(), 6, 'every cell has its editor once loaded');
  ctx.log(`first result at ${t.firstResultAt.toFixed(0)} ms after navigation; the editors' chunk asked for at ${t.editorsAt.toFixed(0)} ms; the kernel's core module: ${sent} bytes sent for ${unpacked}`);
});

test('a reload asks again only for the page: the files it loads first are kept by their content hash', async (ctx) => {
  const { versions } = JSON.parse(readFileSync(join(distDir, 'build.json'), 'utf8'));
  const cacheControl = (path) => new Promise((resolve, reject) => {
    http.get(`${ctx.url}${path}`, (res) => { res.resume(); resolve(res.headers['cache-control']); }).on('error', reject);
  });
  const kept = 'public, max-age=31536000, immutable';
  assert.equal(await cacheControl(`ruchy_kernel.core.wasm?v=${versions['ruchy_kernel.core.wasm']}`), kept);
  assert.equal(await cacheControl(`main.js?v=${versions['main.js']}`), kept);
  assert.equal(await cacheControl('ruchy_kernel.core.wasm'), 'no-cache', 'without its hash: asked again every time');
  assert.equal(await cacheControl('main.js?v=0123456789abcdef'), 'no-cache', 'an old hash gets the current file, not kept');
  assert.equal(await cacheControl(''), 'no-cache', 'the page itself');
  const page = await openPage(ctx, 'example=seed&autorun');
  await page.waitForFunction(() => window.notebookApp.metrics.firstResultAt !== undefined && document.body.dataset.running === 'false');
  await page.reload();
  await page.waitForFunction(() => window.notebookApp?.metrics.firstResultAt !== undefined && document.body.dataset.running === 'false');
  const sent = await page.evaluate(() => Object.fromEntries(performance.getEntriesByType('resource')
    .map((e) => [new URL(e.name).pathname.slice(1) + new URL(e.name).search.replace(/=.*/, '='), e.transferSize])));
  for (const f of ['ruchy_kernel.core.wasm?v=', 'main.js?v=', 'style.css?v=', 'worker.js?v=']) {
    assert.equal(sent[f], 0, `${f} came from the browser's cache without a request on reload (${JSON.stringify(sent)})`);
  }
  const outputs = await page.evaluate(() => window.notebookApp.cells.filter((c) => c.type === 'code').map((c) => c.output?.display));
  assert.deepEqual(outputs, ['42', '85', '<function>', '42', '42'], 'the reloaded page runs the seed notebook');
});

test('the server sends each file in the encoding the browser accepts, and the same bytes', async (ctx) => {
  const raw = readFileSync(join(distDir, 'ruchy_kernel.core.wasm'));
  const get = async (acceptEncoding) => {
    // (node:http: fetch would ask for its own encodings and unpack them behind our back)
    const res = await new Promise((resolve, reject) => {
      http.get(`${ctx.url}ruchy_kernel.core.wasm`, { headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding } }, resolve).on('error', reject);
    });
    const parts = [];
    for await (const part of res) parts.push(part);
    const body = Buffer.concat(parts);
    const encoding = res.headers['content-encoding'] ?? null;
    const unpacked = { br: brotliDecompressSync, gzip: gunzipSync }[encoding]?.(body) ?? body;
    assert.equal(Number(res.headers['content-length']), body.length, 'Content-Length is what was sent');
    assert.equal(res.headers.vary, 'Accept-Encoding');
    assert.ok(unpacked.equals(raw), `${encoding ?? 'identity'} unpacks to the file`);
    return [encoding, body.length];
  };
  const cases = [
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip, deflate', 'gzip'],
    ['br;q=0, gzip;q=0.5', 'gzip'],
    ['identity', null],
    [undefined, null],
  ];
  const sizes = {};
  for (const [accept, want] of cases) {
    const [encoding, bytes] = await get(accept);
    assert.equal(encoding, want, `Accept-Encoding ${JSON.stringify(accept)}`);
    sizes[encoding ?? 'identity'] = bytes;
  }
  assert.ok(sizes.br < sizes.gzip && sizes.gzip < sizes.identity / 2, `brotli ${sizes.br} < gzip ${sizes.gzip} < half of ${sizes.identity}`);
  ctx.log(`the kernel's core module: ${sizes.identity} bytes, ${sizes.gzip} as gzip, ${sizes.br} as brotli`);
});

/** The WebAssembly files the page and its worker have fetched, by name. */
async function fetchedWasm(page) {
  const names = [];
  for (const frame of [page, ...page.workers()]) {
    const got = await frame.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
    const paths = got.map((n) => new URL(n).pathname);
    names.push(...paths.filter((n) => n.endsWith('.wasm')).map((n) => n.slice(n.lastIndexOf('/') + 1)));
  }
  return [...new Set(names)].sort();
}

test('Export Rust fetches the full component on demand and gives the successful cells as Rust', async (ctx) => {
  const page = await openPage(ctx);
  await runTyped(page, 0, 'fun double(n: Int) -> Int { n * 2 }', 1);
  await runTyped(page, 1, 'missing + 1', 2);
  await runTyped(page, 2, 'let result = double(21)', 3);
  assert.deepEqual(await fetchedWasm(page), ['ruchy_kernel.core.wasm']);
  const download = page.waitForEvent('download');
  await page.click('#btn-export-rust');
  const file = await download;
  assert.equal(file.suggestedFilename(), 'untitled.rs');
  const r = await page.evaluate(() => window.notebookApp.lastRustExport);
  assert.equal(r.ok, true, JSON.stringify(r.errors));
  assert.match(r.rust, /fn double\(n: i64\) -> i64 \{/);
  assert.match(r.rust, /fn main\(\)/);
  assert.ok(!r.rust.includes('missing'), 'the failed cell is not exported');
  assert.ok(r.loadMs > 0);
  assert.deepEqual(await fetchedWasm(page), ['ruchy_kernel.core.wasm', 'ruchy_notebook.core.wasm'], 'the full component, once asked for');
  ctx.log(`loading the Rust exporter took ${r.loadMs.toFixed(0)} ms`);
  // a cell Rust cannot express: a notice naming the cell, and the session goes on
  await runTyped(page, 3, 'let b = [result, "two"]', 4);
  await page.click('#btn-export-rust');
  await page.waitForSelector('.notice[data-tag="export-error"]');
  const bad = await page.evaluate(() => window.notebookApp.lastRustExport);
  assert.equal(bad.ok, false);
  assert.equal(bad.errors[0].cell, 3);
  assert.match(await page.textContent('.notice[data-tag="export-error"]'), /^Cell 3 of the 3 that ran cannot be exported to Rust/);
  const out = await runTyped(page, 4, 'result + 1', 5);
  assert.equal(out.display, '43');
});

test('cells run with Shift+Enter and show value, stdout, count and timing', async (ctx) => {
  const page = await openPage(ctx);
  let out = await runTyped(page, 0, 'let x = 42', 1);
  assert.equal(out.display, '42');
  assert.equal(out.outPrompt, 'Out[1]:');
  assert.equal(out.prompt, '[1]:');
  assert.equal(out.error, undefined);
  assert.ok(out.timing, 'a timing badge');
  assert.match(out.timing.text, /^[\d,.]+ µs (✓ under|✗ over) 10 ms$/);
  assert.ok(out.timing.totalUs > 0);
  assert.equal(out.timing.targetMet, out.timing.totalUs < 10_000, 'the badge shows the component\'s verdict');
  assert.equal(out.timing.text.includes('✓'), out.timing.targetMet);
  if (!out.timing.targetMet) ctx.log(`let x = 42 took ${out.timing.totalUs} us (a loaded machine?)`);
  // Shift+Enter on the last cell adds a new cell and moves into it
  assert.equal(await cells(page).count(), 2);
  assert.ok(await cell(page, 1).locator('.cm-editor.cm-focused').count(), 'the new cell has the focus');
  out = await runTyped(page, 1, 'let y = x * 2 + 1', 2);
  assert.equal(out.display, '85', 'state is kept across cells');
  out = await runTyped(page, 2, 'println(f"x = {x}, y = {y}")', 3);
  assert.equal(out.stdout, 'x = 42, y = 85\n');
  assert.equal(out.display, undefined, 'nil shows no value');
  out = await runTyped(page, 3, 'fun double(n: Int) -> Int { n * 2 }', 4);
  assert.equal(out.display, '<function>');
  out = await runTyped(page, 4, '"twice: " + double(y).to_string()', 5);
  assert.equal(out.display, '"twice: 170"', 'strings display quoted');
  // running a cell again gives it the next count
  await cell(page, 1).locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+Enter');
  await waitForCount(page, 1, 6);
  assert.equal((await outputOf(page, 1)).display, '85');
});

test('Ruchy highlighting in the editor', async (ctx) => {
  const page = await openPage(ctx);
  await pasteInto(page, 0, 'fun double(n: Int) -> Int { n * 2 } // twice\nlet s = f"{x + 1} apples" /* note */\n# hash comment\nvar ok = true && nil == null');
  const tokens = await cell(page, 0).locator('.cm-content').evaluate((el) => {
    const out = {};
    for (const span of el.querySelectorAll('span[class*="tok-"]')) {
      for (const c of span.classList) if (c.startsWith('tok-')) (out[c] ??= []).push(span.textContent);
    }
    return out;
  });
  for (const k of ['fun', 'let', 'var', 'true', 'nil', 'null']) assert.ok(tokens['tok-keyword']?.includes(k), `keyword ${k}: ${JSON.stringify(tokens)}`);
  assert.ok(tokens['tok-number']?.includes('2'));
  assert.ok(tokens['tok-comment']?.includes('// twice'));
  assert.ok(tokens['tok-comment']?.includes('/* note */'));
  assert.ok(tokens['tok-comment']?.includes('# hash comment'));
  assert.ok(tokens['tok-string']?.some((t) => t.includes('f"')), 'f-string prefix is a string');
  assert.ok(tokens['tok-string']?.some((t) => t.includes(' apples')));
  assert.ok(tokens['tok-number']?.includes('1'), 'code inside an f-string hole is highlighted as code');
  for (const op of ['*', '->', '==', '&&', '+']) assert.ok(tokens['tok-operator']?.includes(op), `operator ${op}`);
});

test('an error shows its source line with a caret under the span', async (ctx) => {
  const page = await openPage(ctx);
  await runTyped(page, 0, 'let y = 85', 1);
  const out = await runTyped(page, 1, 'let z = y / 0', 2);
  assert.equal(out.state, 'error');
  assert.equal(out.errorKind, 'runtime');
  assert.equal(out.display, undefined);
  const lines = out.error.replace(/\n$/, '').split('\n');
  assert.equal(lines[0], 'Runtime error: Division by zero');
  assert.equal(lines[1].trim(), '--> In[2]:1:9');
  assert.equal(lines[3], '1 | let z = y / 0');
  assert.equal(lines[4], '  |         ^^^^^');
  assert.equal(lines[4].indexOf('^'), lines[3].indexOf('y / 0'), 'the caret starts under the span');
  // the editor underlines the same span
  assert.equal(await cell(page, 1).locator('.cm-error-span').textContent(), 'y / 0');
  // a failed cell changes nothing: y is still bound, z is not
  let ok = await runTyped(page, 2, 'y', 3);
  assert.equal(ok.display, '85');
  ok = await runTyped(page, 3, 'z', 4);
  assert.match(ok.error, /Undefined variable: z/);
  // an error on a later line of a cell points at that line
  await pasteInto(page, 4, 'let a = 1\nlet b = a +');
  await page.keyboard.press('Shift+Enter');
  await waitForCount(page, 4, 5);
  const parse = await outputOf(page, 4);
  assert.equal(parse.errorKind, 'parse');
  assert.match(parse.error, /--> In\[5\]:2:\d+/);
  assert.match(parse.error, /\n2 \| let b = a \+\n/);
});

test('markdown cells render; cells are added, moved and deleted', async (ctx) => {
  const page = await openPage(ctx);
  await page.click('#btn-add-markdown');
  assert.equal(await cells(page).count(), 2);
  assert.ok(await cell(page, 1).evaluate((el) => el.classList.contains('markdown') && el.classList.contains('editing')));
  await page.keyboard.insertText('# Results\n\nSome *emphasis* and `code`.');
  await page.keyboard.press('Shift+Enter');
  await cell(page, 1).locator('.rendered-markdown h1').waitFor();
  assert.equal(await cell(page, 1).locator('.rendered-markdown h1').textContent(), 'Results');
  assert.equal(await cell(page, 1).locator('.rendered-markdown em').textContent(), 'emphasis');
  // Shift+Enter in the last cell added a code cell below it
  const before = await cellIds(page);
  assert.equal(before.length, 3);
  assert.ok(await cell(page, 2).evaluate((el) => el.classList.contains('code')));
  await page.click('#btn-add-code');
  assert.equal(await cells(page).count(), 4, '+ Code adds a cell below the selected one');
  assert.ok(await cell(page, 3).locator('.cm-editor.cm-focused').count());
  await cellAction(page, 3, 'delete');
  assert.deepEqual(await cellIds(page), before);
  // move the last cell up, then delete the first
  await cellAction(page, 2, 'move-up');
  let after = await cellIds(page);
  assert.deepEqual(after, [before[0], before[2], before[1]]);
  await cellAction(page, 2, 'move-down'); // the last cell stays put
  assert.deepEqual(await cellIds(page), after);
  await cellAction(page, 0, 'move-down');
  after = await cellIds(page);
  assert.deepEqual(after, [before[2], before[0], before[1]]);
  await cellAction(page, 0, 'delete');
  assert.deepEqual(await cellIds(page), [before[0], before[1]]);
  assert.equal((await page.evaluate(() => window.notebookApp.cells.map((c) => c.id))).join(), [before[0], before[1]].join(), 'the model follows the page');
  // double-click edits a rendered markdown cell; HTML in markdown is escaped
  await cell(page, 1).locator('.rendered-markdown').dblclick();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.insertText('<img src=x onerror="window.__xss=1"> plain');
  await page.keyboard.press('Shift+Enter');
  await cell(page, 1).locator('.rendered-markdown p').waitFor();
  assert.equal(await cell(page, 1).locator('.rendered-markdown img').count(), 0);
  assert.match(await cell(page, 1).locator('.rendered-markdown p').textContent(), /<img src=x/);
});

test('run all runs the seed cells in order in one session', async (ctx) => {
  const page = await openPage(ctx, 'example=seed');
  await page.click('#btn-run-all');
  await waitForCount(page, 5, 5);
  await waitIdle(page);
  const displays = [];
  for (let i = 1; i <= 5; i++) displays.push((await outputOf(page, i)).display);
  assert.deepEqual(displays, ['42', '85', '<function>', '42', '42']);
  const counts = await page.$$eval('#cells > .cell.code .prompt', (els) => els.map((e) => e.textContent));
  assert.deepEqual(counts, ['[1]:', '[2]:', '[3]:', '[4]:', '[5]:']);
});

test('run all stops at the first error', async (ctx) => {
  const page = await openPage(ctx, 'example=empty');
  await pasteInto(page, 0, 'let a = 1');
  await page.click('#btn-add-code');
  await page.keyboard.insertText('a / 0');
  await page.click('#btn-add-code');
  await page.keyboard.insertText('let never = 1');
  await page.click('#btn-run-all');
  await waitForCount(page, 1, 2);
  await waitIdle(page);
  assert.equal((await outputOf(page, 2)).prompt, '[ ]:', 'the cell after the error did not run');
});

/** Runs `loop {}` after a binding; `stop` ends it (or does nothing, for the watchdog). */
async function runawayCell(ctx, query, stop) {
  const page = await openPage(ctx, query);
  await runTyped(page, 0, 'let keep = 7', 1);
  await runTyped(page, 1, 'fun triple(n: Int) -> Int { n * 3 }', 2);
  await typeInto(page, 2, 'loop {}');
  await page.keyboard.press('Shift+Enter');
  await page.waitForFunction(() => document.querySelectorAll('#cells > .cell')[2].dataset.state === 'running');
  await stop(page);
  await waitForCount(page, 2, 3);
  const out = await outputOf(page, 2);
  assert.equal(out.state, 'error');
  // Either the page ended the cell (worker terminated, session replayed) or the engine's own
  // time limit did (a `limit` diagnostic; the session is kept as it is).
  if (out.errorKind === 'limit') ctx.log(`the engine's own limit ended the cell first: ${out.error.split('\n')[0]}`);
  else {
    assert.match(out.error, /^Interrupted: /);
    await page.locator('.notice[data-tag="rebuilt"]').waitFor();
    const note = await page.locator('.notice[data-tag="rebuilt"]').textContent();
    assert.match(note, /rebuilt by replaying 2 cells that had succeeded/);
  }
  await waitIdle(page);
  // the variables panel shows the session as it is now (rebuilt, or kept)
  await page.waitForFunction(() => ['keep', 'triple'].every((n) => document.querySelector(`#variables-body tr[data-name="${n}"]`)));
  const after = await runTyped(page, 3, 'triple(keep)', 4);
  assert.equal(after.display, '21', 'the session was kept: bindings and functions of earlier cells');
  assert.equal(after.error, undefined);
  return { page, out };
}

test('loop {} is interrupted with the Interrupt button and the session is kept', async (ctx) => {
  const { page, out } = await runawayCell(ctx, 'example=empty', async (page) => {
    assert.equal(await page.locator('#btn-interrupt').isEnabled(), true, 'Interrupt is enabled while a cell runs');
    await page.click('#btn-interrupt');
  });
  if (out.errorKind !== 'limit') assert.match(out.error, /^Interrupted: stopped with the Interrupt button: the engine worker was terminated$/);
  assert.equal(await page.locator('#btn-interrupt').isDisabled(), true);
});

test('the watchdog ends a cell that does not answer in time and replays the session', async (ctx) => {
  const { out } = await runawayCell(ctx, 'example=empty&timeout=1500', async () => {});
  if (out.errorKind !== 'limit') assert.match(out.error, /^Interrupted: no answer within 1\.5 s: the engine worker was terminated$/);
});

test('restart forgets every binding', async (ctx) => {
  const page = await openPage(ctx);
  await runTyped(page, 0, 'let gone = 1', 1);
  await page.click('#btn-restart');
  await page.locator('.notice[data-tag="restarted"]').waitFor();
  await waitIdle(page);
  const out = await runTyped(page, 1, 'gone', 1);
  assert.match(out.error, /Undefined variable: gone/);
});

test('save as .ipynb then open gives the same notebook', async (ctx) => {
  const page = await openPage(ctx, 'example=welcome');
  await page.fill('#nb-name', 'roundtrip');
  await page.locator('#nb-name').press('Enter');
  await page.click('#btn-run-all');
  await waitForCount(page, 4, 4);
  await waitIdle(page);
  const shownBefore = await shown(page);
  const modelBefore = await page.evaluate(() => window.notebookApp.serialize());

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#btn-save')]);
  assert.equal(download.suggestedFilename(), 'roundtrip.ipynb');
  const saved = join(artifactsDir, download.suggestedFilename());
  await download.saveAs(saved);
  const text = readFileSync(saved, 'utf8');
  assert.equal(text, modelBefore, 'the file is the notebook');
  const nb = JSON.parse(text);
  assert.equal(nb.nbformat, 4);
  assert.ok(nb.nbformat_minor >= 4);
  assert.equal(nb.metadata.kernelspec.language, 'ruchy');
  assert.equal(nb.metadata.language_info.name, 'ruchy');
  assert.deepEqual(nb.cells.map((c) => c.cell_type), ['markdown', 'code', 'code', 'code', 'code']);
  const [, c1, c2, c4, c3] = nb.cells;
  assert.equal(c1.execution_count, 1);
  assert.deepEqual(c1.outputs.map((o) => o.output_type), ['execute_result']);
  assert.deepEqual(c1.outputs[0].data['text/plain'], ['42']);
  assert.deepEqual(c2.outputs.map((o) => o.output_type), ['stream', 'execute_result']);
  assert.deepEqual(c2.outputs[0].text, ['Hello, Ruchy! double(42) = 84\n']);
  assert.equal(c3.outputs[0].output_type, 'error');
  assert.equal(c3.outputs[0].evalue, 'Division by zero');
  assert.ok(c3.outputs[0].traceback.some((l) => /\^{5}/.test(l)), 'the traceback has the caret');
  assert.equal(c3.metadata.ruchy.diagnostic.kind, 'runtime');
  assert.equal(typeof c1.metadata.ruchy.performance.totalUs, 'number');
  assert.equal(c4.execution_count, 3);
  assert.deepEqual(c4.outputs[0].data['text/plain'], ['[1, 4, 9, 16]']);
  for (const c of nb.cells) assert.match(c.id, /^[a-zA-Z0-9-_]{1,64}$/);

  // open it in a fresh page (nothing autosaved: a new browser context)
  const page2 = await openPage(ctx, 'example=empty');
  await page2.setInputFiles('#file-input', saved);
  await page2.locator('.notice[data-tag="opened"]').waitFor();
  assert.equal(await page2.evaluate(() => window.notebookApp.serialize()), text, 'opening then saving gives the same file');
  const shownAfter = await shown(page2);
  assert.deepEqual(shownAfter, shownBefore, 'the page shows the same notebook');
  assert.equal(await page2.inputValue('#nb-name'), 'roundtrip');
  assert.equal(await page2.locator('.cm-error-span').textContent(), 'x / 0', 'the error span is underlined again');
  // a file that is not a notebook is refused with a message
  const bad = join(artifactsDir, 'not-a-notebook.ipynb');
  writeFileSync(bad, '{"nbformat": 3, "worksheets": []}');
  await page2.setInputFiles('#file-input', bad);
  await page2.locator('.notice[data-tag="open-error"]').waitFor();
  rmSync(bad);
  assert.equal(await page2.evaluate(() => window.notebookApp.serialize()), text, 'a refused file leaves the notebook alone');
});

test('notebooks written by other tools open (nbformat 4, in Node)', async () => {
  const { parseIpynb, serializeIpynb } = await import('./src/ipynb.js');
  const foreign = {
    nbformat: 4, nbformat_minor: 2,
    metadata: { kernelspec: { name: 'python3', language: 'python', display_name: 'Python 3' }, language_info: { name: 'python' } },
    cells: [
      { cell_type: 'markdown', metadata: {}, source: ['# Title\n', 'text'] },
      { cell_type: 'raw', metadata: {}, source: 'raw text' },
      { cell_type: 'code', execution_count: 3, metadata: {}, source: 'print(1)\n1 + 1', outputs: [
        { output_type: 'stream', name: 'stdout', text: ['1\n'] },
        { output_type: 'execute_result', execution_count: 3, data: { 'text/plain': ['2'] }, metadata: {} },
      ] },
      { cell_type: 'code', execution_count: 4, metadata: {}, source: ['1/0'], outputs: [
        { output_type: 'error', ename: 'ZeroDivisionError', evalue: 'division by zero', traceback: ['\u001b[0;31mZeroDivisionError\u001b[0m: division by zero'] },
      ] },
      { cell_type: 'code', execution_count: null, metadata: {}, source: '', outputs: [] },
    ],
  };
  const nb = parseIpynb(JSON.stringify(foreign), 'py');
  assert.equal(nb.language, 'python');
  assert.deepEqual(nb.cells.map((c) => c.type), ['markdown', 'markdown', 'code', 'code', 'code']);
  assert.equal(nb.cells[0].source, '# Title\ntext');
  assert.deepEqual(nb.cells[2].output, { count: 3, stdout: '1\n', source: 'print(1)\n1 + 1', display: '2' });
  assert.equal(nb.cells[3].output.foreignError, 'ZeroDivisionError: division by zero');
  assert.equal(nb.cells[4].output, undefined);
  for (const c of nb.cells) assert.match(c.id, /^[a-zA-Z0-9-_]{1,64}$/);
  // what this page writes reads back the same
  const text = serializeIpynb(nb);
  assert.equal(serializeIpynb(parseIpynb(text, 'py')), text);
  assert.throws(() => parseIpynb('{"nbformat": 3, "cells": []}'), /nbformat 4/);
  assert.throws(() => parseIpynb('not json'), /not JSON/);
});

test('display outputs and bundles round-trip through .ipynb (in Node)', async () => {
  const { interleave, parseIpynb, serializeIpynb, toIpynb } = await import('./src/ipynb.js');
  const svg = { mime: 'image/svg+xml', data: '<svg xmlns="http://www.w3.org/2000/svg">\n<rect class="mark"/>\n</svg>\n' };
  const output = {
    count: 1,
    stdout: 'é\nmiddle\nend',
    source: 'src',
    outputs: [
      { bundle: [{ mime: 'text/plain', data: 'first' }], stdoutOffset: 0 },
      { bundle: [{ mime: 'text/plain', data: '<chart>' }, svg], stdoutOffset: 3 },
      { bundle: [{ mime: 'text/plain', data: '# m' }, { mime: 'text/markdown', data: '# m' }], stdoutOffset: 3 },
      { bundle: [{ mime: 'text/plain', data: 'last' }], stdoutOffset: 13 },
    ],
    display: '[{a: 1}]',
    bundle: [{ mime: 'text/plain', data: '[{a: 1}]' }, { mime: 'text/html', data: '<table>\n<tr><td>1</td></tr>\n</table>' }],
  };
  // offsets count UTF-8 bytes: "é\n" is 3 of them
  assert.deepEqual(interleave(output.stdout, output.outputs).map((p) => p.text ?? p.output.bundle[0].data),
    ['first', 'é\n', '<chart>', '# m', 'middle\nend', 'last']);
  const nb = { name: 'b', cells: [{ id: 'c1', type: 'code', source: 'src', output }] };
  const json = toIpynb(nb);
  assert.deepEqual(json.cells[0].outputs.map((o) => o.output_type), ['display_data', 'stream', 'display_data', 'display_data', 'stream', 'display_data', 'execute_result']);
  assert.deepEqual(json.cells[0].outputs[2].data['image/svg+xml'], ['<svg xmlns="http://www.w3.org/2000/svg">\n', '<rect class="mark"/>\n', '</svg>\n']);
  assert.deepEqual(Object.keys(json.cells[0].outputs[6].data), ['text/plain', 'text/html']);
  json.cells[0].metadata = { ruchy: {} };
  const back = parseIpynb(JSON.stringify(json), 'b');
  assert.deepEqual(back.cells[0].output, output, 'read back as it was');
  assert.equal(serializeIpynb(back), serializeIpynb(nb));
  // other tools' display_data and rich results, without metadata.ruchy
  const foreign = parseIpynb(JSON.stringify({
    nbformat: 4, nbformat_minor: 5, metadata: {},
    cells: [{ cell_type: 'code', execution_count: 1, metadata: {}, source: 'x', outputs: [
      { output_type: 'stream', name: 'stdout', text: 'a\n' },
      { output_type: 'display_data', data: { 'image/png': 'iVBORw0KGgo=\n', 'text/plain': ['<Figure>'], 'application/json': { a: 1 } }, metadata: {} },
      { output_type: 'execute_result', execution_count: 1, data: { 'text/html': '<b>x</b>', 'text/plain': 'x' }, metadata: {} },
    ] }],
  }));
  assert.deepEqual(foreign.cells[0].output, {
    count: 1, stdout: 'a\n', source: 'x', display: 'x',
    outputs: [{ bundle: [{ mime: 'text/plain', data: '<Figure>' }, { mime: 'image/png', data: 'iVBORw0KGgo=\n' }], stdoutOffset: 2 }],
    bundle: [{ mime: 'text/plain', data: 'x' }, { mime: 'text/html', data: '<b>x</b>' }],
  });
});

test('the benchmark panel runs the component benchmark and shows the seed table', async (ctx) => {
  const page = await openPage(ctx, 'example=seed');
  await page.click('#btn-bench');
  await page.fill('#bench-iterations', '50');
  await page.click('#bench-run');
  await page.waitForFunction(() => ['met', 'missed', 'failed'].includes(document.querySelector('#bench-panel').dataset.state), null, { timeout: 120_000 });
  const tables = await page.$$eval('.bench-table', (ts) => ts.map((t) => ({
    title: t.querySelector('h3').textContent,
    rows: [...t.querySelectorAll('tbody tr:not(.group)')].map((r) => [...r.cells].map((c) => c.textContent)),
    groups: [...t.querySelectorAll('tbody tr:not(.group)')].map((r) => r.dataset.group),
  })));
  assert.equal(tables.length, 2);
  const inside = tables[0];
  assert.match(inside.title, /Inside the component/);
  const rowsOf = (t, group) => t.rows.filter((r, i) => t.groups[i] === group);
  const seedRows = rowsOf(inside, 'seed');
  assert.deepEqual(seedRows.map((r) => r[1]), ['let x = 42', 'let y = x * 2 + 1', 'fun double(n: Int) -> Int { n * 2 }', 'let result = double(21)', 'if x > 0 { x } else { 0 }']);
  for (const r of seedRows) {
    assert.ok(['yes', 'NO'].includes(r[8]), `a verdict for ${r[0]}`);
    assert.ok(Number(r[4]) > 0 && Number(r[5]) >= Number(r[4]), `p50 and p95 of ${r[0]}`);
  }
  // the page runs the kernel component, which has no transpiler: no compile rows here (they
  // are measured by both hosts on the full component)
  assert.equal(rowsOf(inside, 'compile').length, 0, 'the kernel benchmarks no compile categories');
  assert.deepEqual(
    rowsOf(inside, 'compute').map((r) => r[8]),
    ['= 196418', '= 500000500000', '= 1000000', '= 500002.0', '= 999995', '= 5000', '= 67499550000', '= 10000', '= 100007', '= 1499', '= 99998', '= 1212'],
    'the compute cells did their work',
  );
  // the notebook protocol's questions, timed inside the component and from JavaScript
  for (const t of tables) {
    const protocol = rowsOf(t, 'protocol');
    assert.ok(protocol.length >= 5, `protocol rows in ${t.title}`);
    assert.ok(protocol.some((r) => r[1].startsWith('complete ')) && protocol.some((r) => r[1].startsWith('inspect ')));
    // (a question of a few µs can read 0 on the browser's 5 µs clock)
    for (const r of protocol) assert.ok(r.slice(3, 8).every((x) => Number.isFinite(Number(x))), `${r[0]} was timed in ${t.title}`);
    assert.ok(protocol.some((r) => Number(r[7]) > 0), `the protocol rows in ${t.title} have times`);
  }
  assert.deepEqual([...new Set(inside.groups)], ['seed', 'compute', 'protocol'], 'every row in its group, in order');
  assert.deepEqual(tables[1].rows.map((r) => r[1]), inside.rows.map((r) => r[1]), 'the round-trip table has the same cells');
  const verdict = await page.locator('.bench-summary').first().textContent();
  assert.match(verdict, /^seed cells: overall mean [\d.]+ µs; [\d.]+% under 10 ms; simple cells under 10 ms: [\d.]+%; criteria (met|NOT met)$/);
  ctx.log(`in the browser, 50 iterations: ${verdict}`);
  await page.locator('#bench-panel').screenshot({ path: join(artifactsDir, 'benchmark.png') });
  // the notebook session was not disturbed
  await page.click('#btn-run-all');
  await waitForCount(page, 5, 5);
});

/** The parts of cell `i`'s output in order: printed text, display outputs, the value. */
async function outputParts(page, i) {
  return page.evaluate((i) => {
    const el = document.querySelectorAll('#cells > .cell')[i];
    return [...el.querySelector('.output').children].map((c) => {
      const shown = c.querySelector('[data-mime]');
      return { kind: c.className, mime: shown?.dataset.mime, text: c.textContent };
    });
  }, i);
}

/** Drops the console messages Chromium logs when the frame blocks a script or a load (the
 * point of the test that makes them). */
const dropBlockedScripts = (ctx) => {
  ctx.errors = ctx.errors.filter((e) => !/Blocked script execution in 'about:srcdoc'|violates the following Content Security Policy directive/.test(e));
};

test('HTML from a cell shows in a sandboxed frame where its scripts do not run', async (ctx) => {
  const page = await openPage(ctx);
  await runTyped(page, 0, 'display(html("<b>x</b><script>window.pwned=1</script><img src=x onerror=\\"window.pwned=2\\">"))', 1);
  const frame = cell(page, 0).locator('.display-output iframe.html-output');
  await frame.waitFor();
  assert.equal(await frame.getAttribute('sandbox'), 'allow-same-origin', 'sandboxed, and never allow-scripts');
  assert.equal(await cell(page, 0).frameLocator('iframe.html-output').locator('b').textContent(), 'x', 'the bold text shows');
  // give a script every chance to have run, then look in the page and in every frame
  await page.waitForFunction(() => document.querySelector('iframe.html-output').contentDocument?.readyState === 'complete');
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('iframe')].map((f) => f.contentWindow.pwned)), [undefined]);
  for (const f of page.frames()) {
    const seen = await f.evaluate(() => window.pwned).catch(() => undefined);
    assert.equal(seen, undefined, `window.pwned in ${f.url()}`);
  }
  dropBlockedScripts(ctx);
});

test('a chart shows as an SVG image with its marks; an array of objects as a table', async (ctx) => {
  const page = await openPage(ctx);
  await runTyped(page, 0, 'line_chart([1, 2, 3], [2, 4, 3], {title: "Sales"})', 1);
  const img = cell(page, 0).locator('.result img.image-output');
  await img.waitFor();
  const svg = svgOf(await img.getAttribute('src'));
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal(svg.match(/class="mark"/g)?.length, 1, 'one line');
  assert.match(svg, />Sales</);
  assert.equal(await img.getAttribute('alt'), '<line chart "Sales": 3 points, x 1..3, y 2..4>', 'the text form is the alt text');
  assert.ok(await img.evaluate((el) => el.complete && el.naturalWidth > 0), 'the browser drew the SVG');
  await runTyped(page, 1, 'display(bar_chart(["a", "b", "c"], [3, 1, 2]))', 2);
  const bars = svgOf(await cell(page, 1).locator('.display-output img').getAttribute('src'));
  assert.equal(bars.match(/<rect class="mark"/g)?.length, 3);

  await runTyped(page, 2, '[{name: "Ann", age: 31}, {name: "<Bo>", age: 5}]', 3);
  const table = cell(page, 2).frameLocator('.result iframe.html-output').locator('table');
  await table.waitFor();
  assert.deepEqual(await table.locator('th').allTextContents(), ['age', 'name']);
  assert.deepEqual(await table.locator('tbody tr').allTextContents(), ['31Ann', '5<Bo>']);
  const height = await cell(page, 2).locator('iframe.html-output').evaluate((f) => f.getBoundingClientRect().height);
  const tableHeight = await cell(page, 2).locator('iframe.html-output').evaluate((f) => f.contentDocument.querySelector('table').getBoundingClientRect().height);
  assert.ok(height >= tableHeight, `the frame (${height}px) fits the table (${tableHeight}px)`);
});

test('markdown values render (without raw HTML); stdout and outputs keep their order', async (ctx) => {
  const page = await openPage(ctx);
  await runTyped(page, 0, 'markdown("# Title\\n\\nSome *text* <img src=x onerror=\\"window.md=1\\">")', 1);
  const md = cell(page, 0).locator('.result .markdown-output');
  assert.equal(await md.locator('h1').textContent(), 'Title');
  assert.equal(await md.locator('em').textContent(), 'text');
  assert.equal(await md.locator('img').count(), 0, 'raw HTML in markdown stays text');
  assert.match(await md.textContent(), /<img src=x/);

  await runTyped(page, 1, 'println("é one")\ndisplay(markdown("**two**"))\nprint("three ")\nprintln("ü")\ndisplay(1)\ndisplay([1, 2])\nprint("four")\n5', 2);
  const parts = await outputParts(page, 1);
  // (a display's text without the newline markdown-it ends a paragraph with)
  assert.deepEqual(parts.slice(0, -1).map((p) => [p.kind, p.kind === 'stdout' ? p.text : p.text.trim()]), [
    ['stdout', 'é one\n'],
    ['display-output', 'two'],
    ['stdout', 'three ü\n'],
    ['display-output', '1'],
    ['display-output', '[1, 2]'],
    ['stdout', 'four'],
    ['result', 'Out[2]:5'],
  ]);
  assert.equal(parts[parts.length - 1].kind, 'cell-meta', 'then the timing');
  assert.equal(parts[1].mime, 'text/markdown');
  assert.equal(parts[3].mime, 'text/plain');
  // outputs made before an error stay, and the error follows them
  await runTyped(page, 2, 'display(7)\n1 / 0', 3);
  const failed = await outputParts(page, 2);
  assert.deepEqual(failed.map((p) => p.kind), ['display-output', 'error diagnostic kind-runtime', 'cell-meta']);
});

/** The labels, kinds and details in the open completion popup. */
async function completionOptions(page) {
  await page.locator('.cm-tooltip-autocomplete li').first().waitFor();
  return page.$$eval('.cm-tooltip-autocomplete li', (els) => els.map((li) => ({
    label: li.querySelector('.cm-completionLabel')?.textContent,
    kind: li.querySelector('.cm-completionKind')?.textContent,
    icon: [...(li.querySelector('.cm-completionIcon')?.classList ?? [])].find((c) => c !== 'cm-completionIcon'),
    detail: li.querySelector('.cm-completionDetail')?.textContent,
  })));
}

test('typing a dot opens the completion popup with the methods of the value', async (ctx) => {
  const page = await openPage(ctx);
  await runTyped(page, 0, 'let xs = [3, 1, 2]', 1);
  await typeInto(page, 1, 'xs.');
  const options = await completionOptions(page);
  const push = options.find((o) => o.label === 'push');
  assert.ok(push, `push is offered: ${JSON.stringify(options)}`);
  assert.equal(push.kind, 'method');
  assert.equal(push.icon, 'cm-completionIcon-method');
  assert.match(push.detail, /push\(x: T\)/);
  // typing on filters, Enter takes the choice
  await page.keyboard.type('pu');
  await page.waitForFunction(() => [...document.querySelectorAll('.cm-tooltip-autocomplete .cm-completionLabel')].every((l) => l.textContent.startsWith('pu')));
  await page.keyboard.press('Enter');
  assert.equal(await editorText(page, 1), 'xs.push');
  assert.equal(await page.locator('.cm-tooltip-autocomplete').count(), 0);
});

test('Tab completes a prefix; with several candidates it opens the popup', async (ctx) => {
  const page = await openPage(ctx);
  await runTyped(page, 0, 'let total_count = 1\nlet tally = 3', 1);
  // the only candidate is inserted (after non-ASCII text: byte offsets and UTF-16 positions)
  await typeInto(page, 1, '"é" + total_c');
  await page.keyboard.press('Tab');
  await page.waitForFunction(() => window.notebookApp.cells[1].source === '"é" + total_count');
  // several: the popup, and Tab takes its first choice
  await page.keyboard.type(' + t');
  await page.keyboard.press('Tab');
  const labels = (await completionOptions(page)).map((o) => o.label);
  for (const l of ['total_count', 'tally', 'true']) assert.ok(labels.includes(l), `${l} in ${labels}`);
  // CodeMirror takes no choice in the first 75 ms the popup is open (its interactionDelay)
  await page.waitForTimeout(100);
  await page.keyboard.press('Tab');
  assert.match(await editorText(page, 1), / \+ (total_count|tally|true)$/);
  // Tab at the start of a line still indents
  await page.click('#btn-add-code');
  await page.keyboard.press('Tab');
  assert.match(await editorText(page, 2), /^\s+$/);
});

test('Shift+Tab and hovering show what a name is', async (ctx) => {
  const page = await openPage(ctx);
  await runTyped(page, 0, 'fun double(n: Int) -> Int { n * 2 }', 1);
  await typeInto(page, 1, 'let r = double(21)');
  for (let k = 0; k < 6; k++) await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Shift+Tab');
  const tip = page.locator('.inspect-tooltip');
  await tip.waitFor();
  assert.equal(await tip.locator('pre code').textContent(), 'fun double(n: Int) -> Int\n');
  assert.match(await tip.textContent(), /A function defined in this session/);
  assert.equal(await editorText(page, 1), 'let r = double(21)', 'Shift+Tab changed nothing');
  await page.keyboard.press('Escape');
  await tip.waitFor({ state: 'detached' });
  // hover: the pointer over `double` in the editor
  const box = await cell(page, 1).locator('.cm-content').evaluate((el) => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const at = n.textContent.indexOf('double');
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(n, at + 2);
      range.setEnd(n, at + 3);
      const r = range.getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
    }
    return null;
  });
  await page.mouse.move(box.x, box.y);
  await tip.waitFor();
  assert.match(await tip.textContent(), /fun double\(n: Int\) -> Int/);
  // a variable shows its type and value
  await runTyped(page, 1, 'let r = double(21)', 2);
  await typeInto(page, 2, 'r');
  await page.keyboard.press('Shift+Tab');
  await page.locator('.inspect-tooltip').waitFor();
  assert.match(await page.locator('.inspect-tooltip').textContent(), /Int[\s\S]*42/);
  // the worker's fourth call, for a console deciding what Enter does
  assert.deepEqual(await page.evaluate(() => window.notebookApp.kernel.isComplete('fun f() {')), { tag: 'incomplete', val: '    ' });
  assert.deepEqual(await page.evaluate(() => window.notebookApp.kernel.isComplete('let a = 1')), { tag: 'complete' });
});

/** The rows of the variables panel: [name, type, value]. */
const variablesShown = (page) => page.$$eval('#variables-body tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));

test('the variables panel lists the bindings and follows the session', async (ctx) => {
  const page = await openPage(ctx);
  assert.deepEqual(await variablesShown(page), []);
  assert.ok(await page.locator('#variables-panel .empty').isVisible());
  await runTyped(page, 0, 'let a = 1\nlet words = ["x", "y"]', 1);
  await page.waitForFunction(() => document.querySelectorAll('#variables-body tr').length === 2);
  assert.deepEqual(await variablesShown(page), [['a', 'Int', '1'], ['words', '[String]', '["x", "y"]']]);
  await runTyped(page, 1, 'let a = "now text"\nfun f(p, q) { p }', 2);
  await page.waitForFunction(() => document.querySelectorAll('#variables-body tr').length === 3);
  assert.deepEqual(await variablesShown(page), [['a', 'String', '"now text"'], ['words', '[String]', '["x", "y"]'], ['f', 'fun f(p, q)', '<function>']]);
  assert.equal(await page.textContent('#variables-count'), '3');
  // a value changed in place, or by a function, shows its new value where it was
  await runTyped(page, 2, 'words.push("z")', 3);
  await page.waitForFunction(() => document.querySelector('#variables-body tr[data-name="words"] .var-value').textContent === '["x", "y", "z"]');
  await runTyped(page, 3, 'fun bump() { a = a + "!" }\nbump()', 4);
  await page.waitForFunction(() => document.querySelector('#variables-body tr[data-name="a"] .var-value').textContent === '"now text!"');
  assert.deepEqual((await variablesShown(page)).map(([n]) => n), ['a', 'words', 'f', 'bump']);
  // a failed cell binds nothing
  await runTyped(page, 4, 'let broken = 1; nope', 5);
  await waitIdle(page);
  assert.ok(!(await variablesShown(page)).some(([n]) => n === 'broken'));
  await page.click('#btn-restart');
  await page.locator('.notice[data-tag="restarted"]').waitFor();
  await page.waitForFunction(() => document.querySelector('#variables-panel').dataset.count === '0');
  assert.deepEqual(await variablesShown(page), []);
});

test('a saved .ipynb keeps the bundles, and opening it shows charts and tables before any run', async (ctx) => {
  const page = await openPage(ctx, 'example=rich');
  await page.click('#btn-run-all');
  await waitForCount(page, 4, 4);
  await waitIdle(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#btn-save')]);
  const saved = join(artifactsDir, 'rich.ipynb');
  await download.saveAs(saved);
  const text = readFileSync(saved, 'utf8');
  const nb = JSON.parse(text);
  const [, table, displays, chart, md] = nb.cells;
  assert.deepEqual(table.outputs.map((o) => o.output_type), ['execute_result']);
  assert.deepEqual(Object.keys(table.outputs[0].data), ['text/plain', 'text/html']);
  assert.match(table.outputs[0].data['text/html'].join(''), /<th>month<\/th><th>units<\/th>/);
  assert.deepEqual(displays.outputs.map((o) => o.output_type), ['stream', 'display_data', 'stream']);
  assert.deepEqual(displays.outputs[0].text, ['units by month:\n']);
  assert.deepEqual(Object.keys(displays.outputs[1].data), ['text/plain', 'image/svg+xml']);
  assert.match(displays.outputs[1].data['image/svg+xml'].join(''), /^<svg [\s\S]*<\/svg>\n$/);
  assert.deepEqual(displays.outputs[1].metadata, {});
  assert.deepEqual(displays.outputs[2].text, ['done\n']);
  assert.deepEqual(Object.keys(chart.outputs[0].data), ['text/plain', 'image/svg+xml']);
  assert.deepEqual(Object.keys(md.outputs[0].data), ['text/plain', 'text/markdown']);

  // a fresh page: nothing has run, yet the outputs are there
  const page2 = await openPage(ctx, 'example=empty');
  await page2.setInputFiles('#file-input', saved);
  await page2.locator('.notice[data-tag="opened"]').waitFor();
  assert.equal(await page2.evaluate(() => window.notebookApp.serialize()), text, 'opening then saving gives the same file');
  assert.deepEqual(await page2.evaluate(() => window.notebookApp.metrics.cells.length), 0, 'no cell ran');
  assert.deepEqual(await page2.locator('.cell >> nth=1 >> th').count(), 0, 'the table is in its frame');
  const rows = cell(page2, 1).frameLocator('iframe.html-output').locator('tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 3);
  assert.deepEqual((await outputParts(page2, 2)).map((p) => [p.kind, p.mime]), [
    ['stdout', undefined], ['display-output', 'image/svg+xml'], ['stdout', undefined], ['cell-meta', undefined],
  ]);
  const bars = svgOf(await cell(page2, 2).locator('.display-output img').getAttribute('src'));
  assert.equal(bars.match(/<rect class="mark"/g)?.length, 3);
  assert.equal(await cell(page2, 3).locator('.result img').getAttribute('data-mime'), 'image/svg+xml');
  assert.equal(await cell(page2, 4).locator('.result .markdown-output h2').textContent(), 'Summary');
  await page2.screenshot({ path: join(artifactsDir, 'rich-outputs.png'), fullPage: true });
});

test('screenshot of a worked notebook', async (ctx) => {
  const page = await openPage(ctx, 'example=welcome');
  await page.click('#btn-run-all');
  await waitForCount(page, 4, 4);
  await waitIdle(page);
  const path = join(artifactsDir, 'notebook.png');
  await page.screenshot({ path, fullPage: true });
  ctx.log(`screenshot: ${path}`);
});

runTests(tests, { artifacts: artifactsDir, clean: true });
