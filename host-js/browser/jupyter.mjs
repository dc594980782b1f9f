// The page and Jupyter exchange notebooks: a notebook saved by the page runs in Jupyter (nbclient
// with the Ruchy kernel) and gives the same outputs, bundle for bundle; a notebook run in Jupyter
// opens in the page and shows the same bundles. Headless Chromium (the harness of test.mjs) and
// the pinned Jupyter clients of target/jupyter-venv (made by `cargo test -p host-rs --test
// kernel`, which `cargo xtask test` runs first) with the kernelspec of target/release/host-rs
// installed into a scratch prefix; localhost only, every step under a time limit.
//
//   node host-js/browser/jupyter.mjs [--filter WORD]
//
// Artifacts (git-ignored) in host-js/browser/artifacts/jupyter/: page.ipynb (saved by the page),
// page-run.ipynb (it, run by nbclient), tour-run.ipynb (examples/tour.ipynb run by nbclient),
// tour-in-page.png (the latter opened in the page).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { browserDir } from './build.mjs';
import { artifactsDir, cell, openPage, runTests, svgOf, waitForCount, waitIdle } from './harness.mjs';

const root = join(browserDir, '..', '..');
const dir = join(artifactsDir, 'jupyter');
const venv = join(root, 'target', 'jupyter-venv');
const python = join(venv, 'bin', 'python');
const hostRs = join(root, 'target', 'release', 'host-rs');
const helper = join(root, 'host-rs', 'tests', 'kernel', 'page_notebooks.py');
const PYTHON_TIMEOUT_MS = 120_000;

/** Checks that the venv and the kernel binary are there, and installs the kernelspec into a
 * scratch prefix that Jupyter is pointed at (and nothing else). Returns the environment. */
function jupyterEnv() {
  const wanted = readFileSync(join(root, 'host-rs', 'tests', 'kernel', 'requirements.txt'), 'utf8');
  const stamp = join(venv, 'ruchy-requirements.txt');
  if (!existsSync(python) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== wanted) {
    throw new Error(`${venv} is missing or stale: \`cargo test --release -p host-rs --test kernel\` makes it`);
  }
  if (!existsSync(hostRs)) throw new Error(`${hostRs} is missing: \`cargo build --release -p host-rs\``);
  const prefix = join(dir, 'prefix');
  const scratch = join(dir, 'scratch');
  rmSync(prefix, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
  const r = spawnSync(hostRs, ['kernel', 'install', '--prefix', prefix], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`host-rs kernel install failed: ${r.error ?? ''}${r.stdout}${r.stderr}`);
  return {
    ...process.env,
    JUPYTER_PATH: join(prefix, 'share', 'jupyter'),
    JUPYTER_DATA_DIR: join(scratch, 'data'),
    JUPYTER_RUNTIME_DIR: join(scratch, 'runtime'),
    JUPYTER_CONFIG_DIR: join(scratch, 'config'),
    JUPYTER_PLATFORM_DIRS: '1',
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

let env;
/** Runs page_notebooks.py `run IN OUT [--compare]`; returns its summary. */
function runInJupyter(input, output, compare) {
  env ??= jupyterEnv();
  const args = [helper, 'run', input, output, ...(compare ? ['--compare'] : [])];
  const r = spawnSync(python, args, { encoding: 'utf8', env, cwd: dir, timeout: PYTHON_TIMEOUT_MS });
  assert.equal(r.status, 0, `page_notebooks.py ${args.slice(1).join(' ')}: ${r.error ?? `status ${r.status}`}\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** Jupyter's multiline strings as one string. */
const joined = (v) => (Array.isArray(v) ? v.join('') : v);
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

/** A code cell's outputs with line lists joined and the colours of a traceback removed (the
 * page shows and saves a traceback without them). */
function comparable(outputs) {
  return outputs.map((o) => {
    const c = { ...o };
    if (c.text !== undefined) c.text = joined(c.text);
    if (c.data) c.data = Object.fromEntries(Object.entries(c.data).map(([k, v]) => [k, joined(v)]));
    if (c.traceback) c.traceback = c.traceback.map(stripAnsi);
    return c;
  });
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('a notebook saved by the page runs in Jupyter and gives the same outputs, bundle for bundle', async (ctx) => {
  const page = await openPage(ctx, 'example=rich');
  await page.click('#btn-run-all');
  await waitForCount(page, 4, 4);
  await waitIdle(page);
  // one more cell, which fails (an error output with its traceback)
  await cell(page, 4).locator('.cm-content').click();
  await page.click('#btn-add-code');
  await cell(page, 5).locator('.cm-content').click();
  await page.keyboard.type('sales[1].units / (sales[0].units - 120)');
  await page.keyboard.press('Shift+Enter');
  await waitForCount(page, 5, 5);
  await waitIdle(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#btn-save')]);
  const saved = join(dir, 'page.ipynb');
  await download.saveAs(saved);
  const nb = JSON.parse(readFileSync(saved, 'utf8'));
  assert.equal(nb.metadata.kernelspec.name, 'ruchy');
  assert.equal(nb.metadata.language_info.name, 'ruchy');
  const kinds = nb.cells.flatMap((c) => (c.outputs ?? []).flatMap((o) => [o.output_type, ...Object.keys(o.data ?? {})]));
  for (const k of ['stream', 'display_data', 'execute_result', 'error', 'image/svg+xml', 'text/html', 'text/markdown']) {
    assert.ok(kinds.includes(k), `the page's notebook has a ${k} output`);
  }
  // nbclient picks the kernel from the file's kernelspec; page_notebooks.py compares
  const summary = runInJupyter(saved, join(dir, 'page-run.ipynb'), true);
  assert.equal(summary.kernel, 'ruchy');
  assert.equal(summary.language, 'ruchy');
  assert.equal(summary.code_cells, nb.cells.filter((c) => c.cell_type === 'code').length);
  ctx.log(`Jupyter ran the page's notebook: ${JSON.stringify(summary)}`);
});

test('a notebook run in Jupyter opens in the page with the same bundles', async (ctx) => {
  const ran = join(dir, 'tour-run.ipynb');
  const summary = runInJupyter(join(root, 'examples', 'tour.ipynb'), ran, false);
  const text = readFileSync(ran, 'utf8');
  const jupyter = JSON.parse(text);
  assert.equal(jupyter.metadata.kernelspec.name, 'ruchy');
  assert.equal(jupyter.metadata.language_info.name, 'ruchy', 'nbclient wrote the kernel\'s language_info');

  const page = await openPage(ctx, 'example=empty');
  await page.setInputFiles('#file-input', ran);
  await page.locator('.notice[data-tag="opened"]').waitFor();
  const notices = await page.locator('.notice').allTextContents();
  assert.ok(!notices.some((n) => /written for/.test(n)), `opened as a Ruchy notebook: ${notices}`);
  assert.equal(await page.evaluate(() => window.notebookApp.metrics.cells.length), 0, 'no cell ran');

  // the page's model, saved again: the same outputs as Jupyter's
  const again = JSON.parse(await page.evaluate(() => window.notebookApp.serialize()));
  assert.equal(again.metadata.language_info.name, 'ruchy');
  assert.equal(again.cells.length, jupyter.cells.length);
  jupyter.cells.forEach((c, i) => {
    assert.equal(again.cells[i].cell_type, c.cell_type);
    if (c.cell_type !== 'code') return;
    assert.equal(again.cells[i].execution_count, c.execution_count, `cell ${i}'s count`);
    assert.deepEqual(comparable(again.cells[i].outputs), comparable(c.outputs), `cell ${i}: ${joined(c.source)}`);
  });

  // and what the page shows: each bundle in its richest form, each error's traceback
  let svgs = 0;
  let htmls = 0;
  for (const [i, c] of jupyter.cells.entries()) {
    if (c.cell_type !== 'code') continue;
    const shown = await cell(page, i).locator('.output [data-mime]').evaluateAll((els) => els.map((e) => ({
      mime: e.dataset.mime, src: e.getAttribute('src'), srcdoc: e.getAttribute('srcdoc'), text: e.textContent,
    })));
    const bundles = c.outputs.filter((o) => o.data).map((o) => o.data);
    const rich = bundles.filter((d) => d['image/svg+xml'] || d['text/html'] || d['text/markdown']);
    assert.equal(shown.length, rich.length, `cell ${i}: one rich output shown per rich bundle`);
    rich.forEach((d, k) => {
      const s = shown[k];
      if (d['image/svg+xml']) {
        assert.equal(s.mime, 'image/svg+xml');
        assert.equal(svgOf(s.src), joined(d['image/svg+xml']), `cell ${i}: the chart is Jupyter's SVG`);
        svgs++;
      } else if (d['text/html']) {
        assert.equal(s.mime, 'text/html');
        assert.ok(s.srcdoc.includes(joined(d['text/html'])), `cell ${i}: the frame holds Jupyter's HTML`);
        htmls++;
      } else {
        assert.equal(s.mime, 'text/markdown');
      }
    });
    const plain = bundles.filter((d) => !rich.includes(d)).map((d) => joined(d['text/plain']));
    const shownPlain = await cell(page, i).locator('.output pre.display').allTextContents();
    assert.deepEqual(shownPlain, plain, `cell ${i}: plain values`);
    const stdout = c.outputs.filter((o) => o.output_type === 'stream').map((o) => joined(o.text)).join('');
    assert.equal((await cell(page, i).locator('.output .stdout').allTextContents()).join(''), stdout, `cell ${i}: printed text`);
    for (const e of c.outputs.filter((o) => o.output_type === 'error')) {
      assert.equal(await cell(page, i).locator('.output .error').textContent(), e.traceback.map(stripAnsi).join('\n'));
    }
  }
  assert.ok(svgs >= 2 && htmls >= 2, `charts (${svgs}) and HTML (${htmls}) compared`);
  await page.screenshot({ path: join(dir, 'tour-in-page.png'), fullPage: true });
  ctx.log(`Jupyter ran examples/tour.ipynb (${JSON.stringify(summary)}); the page shows ${svgs} SVG and ${htmls} HTML outputs as Jupyter saved them`);
});

runTests(tests, { artifacts: dir, clean: true });
