// What the page's end-to-end tests share (test.mjs, jupyter.mjs): opening the page, waiting
// for the engine and for cells, and the runner (a fresh browser context per test, a time limit
// per test, a screenshot of each failure, errors in the page fail the test).
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { browserDir } from './build.mjs';
import { ensureChromium, launchChromium } from './chromium.mjs';
import { startServer } from './server.mjs';

export const artifactsDir = join(browserDir, 'artifacts');
const args = process.argv.slice(2);
const filter = args.includes('--filter') ? args[args.indexOf('--filter') + 1] : null;
const TEST_TIMEOUT_MS = 90_000;
const WAIT_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// Helpers: they wait for conditions in the page, never for fixed times.

export const cells = (page) => page.locator('#cells > .cell');
export const cell = (page, i) => cells(page).nth(i);

/** Opens the page with a fresh notebook (`example` from examples.js) and waits for the engine. */
export async function openPage(ctx, query = 'example=empty') {
  const page = await ctx.context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on('pageerror', (e) => ctx.errors.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') ctx.errors.push(`console error: ${m.text()}`); });
  await page.goto(`${ctx.url}?${query}`);
  await waitIdle(page);
  return page;
}

/** Waits until the engine is idle, no cell is running or queued and the editors have loaded. */
export async function waitIdle(page) {
  await page.waitForFunction(() => document.body.dataset.kernel === 'idle' && document.body.dataset.running === 'false' && document.body.dataset.editors === 'ready');
}

/** Waits for cell `i` to show execution count `count` and to be finished. */
export async function waitForCount(page, i, count) {
  await page.waitForFunction(([i, count]) => {
    const el = document.querySelectorAll('#cells > .cell')[i];
    return el && (el.dataset.state === 'done' || el.dataset.state === 'error') && el.querySelector('.prompt').textContent === `[${count}]:`;
  }, [i, count]);
}

/** The outputs of cell `i` as text (any driver whose `page.evaluate(fn, arg)` runs `fn` in the page: test.mjs's and engines.mjs's). */
export async function outputOf(page, i) {
  return page.evaluate((i) => {
    const el = document.querySelectorAll('#cells > .cell')[i];
    const text = (sel) => el.querySelector(sel)?.textContent;
    const badge = el.querySelector('.timing');
    return {
      prompt: text('.prompt'),
      state: el.dataset.state,
      display: text('.display'),
      outPrompt: text('.out-prompt'),
      stdout: text('.stdout'),
      error: text('.error'),
      errorKind: el.querySelector('.diagnostic')?.dataset.kind,
      timing: badge ? { text: badge.textContent, totalUs: Number(badge.dataset.totalUs), targetMet: badge.dataset.targetMet === 'true' } : undefined,
    };
  }, i);
}

/** The SVG inside an `<img>`'s data: URL. */
export const svgOf = (src) => {
  assert.match(src, /^data:image\/svg\+xml;charset=utf-8,/);
  return decodeURIComponent(src.slice(src.indexOf(',') + 1));
};

// ---------------------------------------------------------------------------------------------
// The runner

async function main(tests, { artifacts, clean }) {
  if (clean) rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  ensureChromium();
  const t0 = performance.now();
  const srv = await startServer({ port: 0, rebuild: false });
  const browser = await launchChromium();
  console.log(`serving ${srv.url}; ${browser.version()} (headless, ${process.env.RUCHY_CHROMIUM || '/usr/bin/chromium'})`);
  let passed = 0;
  let failed = 0;
  const chosen = tests.filter((t) => !filter || t.name.includes(filter));
  for (const t of chosen) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const ctx = { context, url: srv.url, errors: [], logs: [], log: (m) => ctx.logs.push(m) };
    const start = performance.now();
    let error;
    let timer;
    try {
      await Promise.race([
        t.fn(ctx),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${TEST_TIMEOUT_MS / 1000} s`)), TEST_TIMEOUT_MS); }),
      ]);
      const pageErrors = ctx.errors.filter((e) => !/the server responded with a status of 404/.test(e));
      if (pageErrors.length) throw new Error(`errors in the page:\n${pageErrors.join('\n')}`);
    } catch (e) {
      error = e;
    } finally {
      clearTimeout(timer);
    }
    const ms = (performance.now() - start).toFixed(0);
    if (error) {
      failed++;
      console.log(`not ok - ${t.name} (${ms} ms)`);
      console.log(`  ${String(error.stack ?? error).split('\n').slice(0, 12).join('\n  ')}`);
      const pages = context.pages();
      if (pages.length) {
        const shot = join(artifacts, `failed-${t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
        await pages[pages.length - 1].screenshot({ path: shot, fullPage: true }).catch(() => {});
        console.log(`  screenshot: ${shot}`);
      }
    } else {
      passed++;
      console.log(`ok - ${t.name} (${ms} ms)`);
    }
    for (const m of ctx.logs) console.log(`  # ${m}`);
    await context.close().catch(() => {});
  }
  await browser.close();
  await srv.close();
  console.log(`\nbrowser tests: ${((performance.now() - t0) / 1000).toFixed(1)} s; artifacts in ${artifacts}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0;
}

/**
 * Runs `tests` ([{ name, fn(ctx) }], those whose name contains `--filter WORD` when given), each
 * in a fresh browser context, and exits 1 if any fails. Artifacts go to `artifacts` (emptied
 * first when `clean`).
 */
export function runTests(tests, options) {
  main(tests, options).then((ok) => process.exit(ok ? 0 : 1), (e) => {
    console.error(`browser tests could not run: ${e.stack ?? e}`);
    process.exit(1);
  });
}
