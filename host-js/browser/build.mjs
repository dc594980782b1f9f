// Builds the notebook page into host-js/browser/dist/ (git-ignored), bundled by esbuild: the
// page's script (main.js, and as chunks it loads after it, CodeMirror and markdown-it), its Web
// Worker (worker.js: the jco output of the kernel component and the browser builds of
// preview2-shim), the HTML with boot.js inlined, the CSS, the kernel's core module; and, loaded
// only when the user asks for Rust export, rust_export.js with the full component's jco output
// and its core module.
//
//   node host-js/browser/build.mjs [--force]
//
// Every file a browser fetches is also written compressed beside it, `F.br` (brotli, quality
// 11) and `F.gz` (gzip -9), when that is smaller: server.mjs sends the one the browser accepts
// (a static host would do the same with its precompressed-file setting). build.json records
// each file's size as it is and as each encoding sends it.
//
// `ensureBuilt()` rebuilds only when the component, its jco transpilation, the page sources or
// the lockfile are newer than the last build; serve.mjs, test.mjs and bench.mjs call it.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';

export const browserDir = dirname(fileURLToPath(import.meta.url));
export const hostDir = join(browserDir, '..');
export const srcDir = join(browserDir, 'src');
/** The build output (git-ignored). */
export const distDir = join(browserDir, 'dist');
/** The build's record: when, from what, file sizes, content hashes, encoded sizes. */
export const stampPath = join(distDir, 'build.json');

/**
 * Installs the pinned npm packages (`npm ci`) when one of host-js's dependencies is missing or
 * at another version than package.json pins.
 */
export function ensureNpm() {
  const pkg = JSON.parse(readFileSync(join(hostDir, 'package.json'), 'utf8'));
  const wanted = { ...pkg.dependencies, ...pkg.devDependencies };
  const missing = Object.entries(wanted).filter(([name, version]) => {
    try {
      return JSON.parse(readFileSync(join(hostDir, 'node_modules', name, 'package.json'), 'utf8')).version !== version;
    } catch {
      return true;
    }
  });
  if (!missing.length) return;
  process.stderr.write(`installing host-js packages (npm ci): ${missing.map(([n, v]) => `${n}@${v}`).join(', ')} missing\n`);
  const r = spawnSync('npm', ['ci', '--include=dev', '--no-audit', '--no-fund', '--prefix', hostDir], { stdio: ['ignore', process.stderr, 'inherit'] });
  if (r.error || r.status !== 0) throw new Error(`npm ci failed${r.error ? `: ${r.error.message}` : ` with status ${r.status}`}`);
}

/** The encodings the build writes, in the order a server prefers them: `[name, suffix, compress]`. */
export const ENCODINGS = [
  ['br', '.br', (b) => promisify(brotliCompress)(b, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_LGWIN]: 24, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: b.length } })],
  ['gzip', '.gz', (b) => promisify(gzip)(b, { level: 9 })],
];
/** The files the page asks for with `?v=` and their content's hash (boot.js, index.html). */
export const VERSIONED = ['main.js', 'style.css', 'worker.js', 'ruchy_kernel.core.wasm'];
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.wasm', '.json', '.map', '.svg', '.txt']);

/**
 * Writes `F.br` and `F.gz` beside every compressible file under `dir` that they make smaller
 * (zlib's thread pool compresses them in parallel). Returns `{ file: { br, gzip } }`, the
 * encoded sizes written.
 */
async function precompress(dir) {
  const jobs = files(dir)
    .filter((f) => COMPRESSIBLE.has(extname(f)))
    .flatMap((f) => ENCODINGS.map(([name, suffix, compress]) => ({ f, name, suffix, compress })));
  const out = {};
  await Promise.all(jobs.map(async ({ f, name, suffix, compress }) => {
    const raw = readFileSync(f);
    const packed = await compress(raw);
    if (packed.length >= raw.length) return;
    writeFileSync(f + suffix, packed);
    (out[f.slice(dir.length + 1)] ??= {})[name] = packed.length;
  }));
  return out;
}

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Everything the build reads, newest first matters only. */
function inputs(lib) {
  return [
    ...files(srcDir),
    join(browserDir, 'build.mjs'),
    join(hostDir, 'render.mjs'),
    join(hostDir, 'bench.mjs'),
    join(hostDir, 'package-lock.json'),
    join(hostDir, 'wasi.mjs'),
    ...['kernel', 'full'].flatMap((f) => [lib.genOf(f).entry, lib.genOf(f).core, lib.genOf(f, 'async').entry, lib.componentPaths[f]]),
  ];
}

function stale(lib) {
  if (!existsSync(stampPath)) return 'no build yet';
  const built = statSync(stampPath).mtimeMs;
  const newer = inputs(lib).find((p) => !existsSync(p) || statSync(p).mtimeMs > built);
  return newer ? `${newer.slice(hostDir.length + 1)} is newer than the build` : null;
}

let building = null;

/**
 * Makes sure the page in dist/ is current: npm packages, the component (lib.mjs builds it when
 * missing), its jco transpilation (redone when the component is newer), then the bundle.
 * Returns the dist directory.
 */
export function ensureBuilt({ force = false, quiet = false } = {}) {
  building ??= build(force, quiet).finally(() => { building = null; });
  return building;
}

async function build(force, quiet) {
  ensureNpm();
  const lib = await import('../lib.mjs');
  lib.ensureComponent();
  await lib.ensureTranspiled('kernel');
  await lib.ensureTranspiled('full');
  const why = force ? 'forced' : stale(lib);
  if (!why) return distDir;
  const t0 = performance.now();
  if (!quiet) process.stderr.write(`building the notebook page (${why})...\n`);
  const esbuild = await import('esbuild');
  const tmp = `${distDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  let sizes;
  let versions;
  let encoded;
  try {
    const common = {
      absWorkingDir: browserDir,
      outdir: tmp,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['es2022', 'chrome100', 'firefox115', 'safari16'],
      minify: true,
      sourcemap: 'linked',
      legalComments: 'linked',
      // jco's loader reads the core module with node:fs only when it runs in Node
      external: ['node:*'],
      logLevel: 'silent',
    };
    // The page's script is split: main.js carries what shows the notebook and runs its cells;
    // the editors (CodeMirror, editor.js) and markdown-it are chunks it imports after it has
    // started (cell-editor.js, markdown.js), so they do not delay the first results.
    const page = await esbuild.build({
      ...common,
      entryPoints: { main: join(srcDir, 'main.js') },
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
    });
    // The worker and the Rust exporter each in one file (a shared chunk would be one more
    // request before the worker can start loading the component).
    const worker = await esbuild.build({
      ...common,
      entryPoints: { worker: join(srcDir, 'worker.js'), rust_export: join(srcDir, 'rust-export.js') },
      loader: { '.wasm': 'binary' },
    });
    for (const w of [...page.warnings, ...worker.warnings]) process.stderr.write(`esbuild warning: ${w.text}\n`);
    cpSync(join(srcDir, 'style.css'), join(tmp, 'style.css'));
    // the core modules fetched at run time, beside the scripts: the kernel's main one (the page
    // compiles it, boot.js; the worker runs jco's async-instantiation output, its two small
    // modules bundled) and the full component's (Rust export: jco's default output, which
    // fetches new URL('./ruchy_notebook.core.wasm', import.meta.url) and inlines the others)
    for (const f of ['kernel', 'full']) {
      const { core, name } = lib.genOf(f);
      cpSync(core, join(tmp, `${name}.core.wasm`));
    }
    // What the page loads first is asked for with its content's hash (`main.js?v=HASH`), so
    // the server can let the browser keep it without asking again (server.mjs) and a new build
    // is new URLs; esbuild's chunks carry their hash in their names already.
    versions = Object.fromEntries(VERSIONED.map((f) => [f, createHash('sha256').update(readFileSync(join(tmp, f))).digest('hex').slice(0, 16)]));
    // boot.js inlined as the page's first script (see boot.js), with those versions
    const boot = await esbuild.transform(readFileSync(join(srcDir, 'boot.js'), 'utf8'), {
      minify: true, target: 'es2022', legalComments: 'none', define: { __RUCHY_ASSETS__: JSON.stringify(versions) },
    });
    let html = readFileSync(join(srcDir, 'index.html'), 'utf8');
    for (const [placeholder, what] of [['/*BOOT*/', 'boot.js'], ['href="style.css"', 'style.css'], ['src="main.js"', 'main.js']]) {
      if (!html.includes(placeholder)) throw new Error(`index.html has no ${placeholder} for ${what}`);
    }
    html = html.replace('/*BOOT*/', () => boot.code.trim())
      .replace('href="style.css"', `href="style.css?v=${versions['style.css']}"`)
      .replace('src="main.js"', `src="main.js?v=${versions['main.js']}"`);
    writeFileSync(join(tmp, 'index.html'), html);
    const component = statSync(lib.componentPaths.kernel);
    sizes = Object.fromEntries(files(tmp).map((f) => [f.slice(tmp.length + 1), statSync(f).size]));
    encoded = Object.fromEntries(Object.entries(await precompress(tmp)).sort(([a], [b]) => (a < b ? -1 : 1)));
    writeFileSync(join(tmp, 'build.json'), JSON.stringify({
      builtAt: new Date().toISOString(),
      component: { path: lib.componentPaths.kernel, bytes: component.size, mtime: component.mtime.toISOString() },
      full: { path: lib.componentPaths.full, bytes: statSync(lib.componentPaths.full).size },
      esbuild: esbuild.version,
      files: sizes,
      // the content hashes the page asks for its first files with (`?v=`)
      versions,
      // the bytes each encoding sends, where it is smaller than the file
      encoded,
    }, null, 2) + '\n');
    rmSync(distDir, { recursive: true, force: true });
    renameSync(tmp, distDir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (!quiet) {
    const kb = (f) => `${(sizes[f] / 1024).toFixed(0)} KiB`;
    const chunks = Object.keys(sizes).filter((f) => f.startsWith('chunks/') && f.endsWith('.js'));
    const chunkBytes = chunks.reduce((n, f) => n + sizes[f], 0);
    const encodedKernel = encoded['ruchy_kernel.core.wasm']?.br ?? NaN;
    process.stderr.write(`built ${distDir.slice(hostDir.length + 1)}/ in ${(performance.now() - t0).toFixed(0)} ms: main.js ${kb('main.js')}, worker.js ${kb('worker.js')}, ruchy_kernel.core.wasm ${kb('ruchy_kernel.core.wasm')} (${(encodedKernel / 1024).toFixed(0)} KiB as brotli); after main.js: ${chunks.length} chunks ${(chunkBytes / 1024).toFixed(0)} KiB (editors, markdown); on demand: rust_export.js ${kb('rust_export.js')}, ruchy_notebook.core.wasm ${kb('ruchy_notebook.core.wasm')}\n`);
  }
  return distDir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await ensureBuilt({ force: process.argv.includes('--force') });
}
