// Shared by the Node host's commands: makes sure the npm packages, the component and its jco
// transpilation exist and are current, then loads the component's `engine` interface (and,
// from the full component, its `compiler` interface: Rust export).
//
// Which component: RUCHY_COMPONENT=kernel (target/ruchy_kernel.wasm, world `kernel`, no Rust
// export) or full (target/ruchy_notebook.wasm, the default), for every command.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WASI_PARTS, wasiImports as wasiImportsOf } from './wasi.mjs';

export const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..');
/** `kernel` or `full`, from RUCHY_COMPONENT (default `full`). */
export const flavor = (() => {
  const f = process.env.RUCHY_COMPONENT || 'full';
  if (f !== 'full' && f !== 'kernel') throw new Error(`RUCHY_COMPONENT must be full or kernel, not ${f}`);
  return f;
})();
/** Both components' paths (built together by `host-rs build-component`). */
export const componentPaths = {
  full: join(root, 'target', 'ruchy_notebook.wasm'),
  kernel: join(root, 'target', 'ruchy_kernel.wasm'),
};
/** The component this process uses. */
export const componentPath = componentPaths[flavor];
/** Where a component's jco transpilation goes (`mode` 'async': instantiation 'async', so that
 * compiling its core modules and instantiating them can be timed apart, as the Node host's bench
 * and eval do). The kernel's files are named ruchy_kernel.* so that a page can serve both. */
export function genOf(f = flavor, mode = 'sync') {
  const name = f === 'kernel' ? 'ruchy_kernel' : 'ruchy_notebook';
  const dir = join(here, `gen${mode === 'async' ? '-async' : ''}${f === 'full' ? '' : `-${f}`}`);
  return { name, dir, entry: join(dir, `${name}.js`), core: join(dir, `${name}.core.wasm`) };
}
const { entry: genEntry } = genOf();
const { dir: genAsyncDir, entry: genAsyncEntry } = genOf(flavor, 'async');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with status ${r.status}`);
}

/** Packages whose absence means `npm ci` has not run (or ran before they were added). */
const MARKERS = ['@bytecodealliance/jco', 'fast-xml-parser'];

/** Installs the pinned npm packages (`npm ci`) if they are missing. */
export function ensureDeps() {
  if (MARKERS.some((p) => !existsSync(join(here, 'node_modules', ...p.split('/'), 'package.json')))) {
    process.stderr.write('installing host-js packages (npm ci)...\n');
    run('npm', ['ci', '--no-audit', '--no-fund', '--prefix', here], { stdio: ['ignore', process.stderr, 'inherit'] });
  }
}

/** Builds the components with the Rust host if one is missing. */
export function ensureComponent() {
  if (!Object.values(componentPaths).every((p) => existsSync(p))) {
    process.stderr.write('no component yet: building it (cargo run --release -p host-rs -- build-component)...\n');
    run('cargo', ['run', '--quiet', '--release', '-p', 'host-rs', '--', 'build-component'], { cwd: root });
  }
}

/** Transpiles a component with jco (twice: the default mode in `gen`, the async
 * instantiation mode in `gen-async`, `-kernel` after either for the kernel) when the output is missing or older than the component. */
export async function ensureTranspiled(f = flavor) {
  for (const mode of ['sync', 'async']) {
    const { name, dir, entry } = genOf(f, mode);
    const stale = !existsSync(entry) || statSync(entry).mtimeMs < statSync(componentPaths[f]).mtimeMs;
    if (!stale) continue;
    process.stderr.write(`transpiling the ${f} component with jco${mode === 'async' ? ' (async instantiation)' : ''}...\n`);
    const { transpile } = await import('@bytecodealliance/jco');
    const { files } = await transpile(await readFile(componentPaths[f]), {
      name,
      noTypescript: true,
      ...(mode === 'async' ? { instantiation: 'async' } : {}),
    });
    await rm(dir, { recursive: true, force: true });
    for (const [file, bytes] of Object.entries(files)) {
      if (file.endsWith('.d.ts')) continue;
      const path = join(dir, file);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
    }
  }
}

/** WASI for the async instantiation mode (wasi.mjs). */
async function wasiImports() {
  const shims = await Promise.all(WASI_PARTS.map((p) => import(`@bytecodealliance/preview2-shim/${p}`)));
  return wasiImportsOf(Object.fromEntries(WASI_PARTS.map((p, i) => [p, shims[i]])));
}

/** The component's `engine` interface with the start-up split as the bench reports it:
 * `loadMs` (reading and compiling the core modules: V8 has no cache of compiled WebAssembly
 * across processes, so this is always a compile) and `instantiateMs`. */
export async function loadEngineTimed() {
  ensureDeps();
  ensureComponent();
  await ensureTranspiled();
  const t0 = performance.now();
  const [mod, imports] = await Promise.all([import(pathToFileURL(genAsyncEntry).href), wasiImports()]);
  const names = (await readdir(genAsyncDir)).filter((n) => n.endsWith('.wasm'));
  const modules = Object.fromEntries(await Promise.all(
    names.map(async (n) => [n, await WebAssembly.compile(await readFile(join(genAsyncDir, n)))]),
  ));
  const t1 = performance.now();
  const { engine, compiler } = await mod.instantiate((n) => modules[n], imports);
  const t2 = performance.now();
  return { engine, compiler, loadMs: t1 - t0, instantiateMs: t2 - t1 };
}

/** Everything above, then the component's `engine` interface, its `compiler` interface
 * (`undefined` in the kernel) and how long loading took. */
export async function loadEngine() {
  ensureDeps();
  ensureComponent();
  await ensureTranspiled();
  const t0 = performance.now();
  const mod = await import(pathToFileURL(genEntry).href);
  return { engine: mod.engine, compiler: mod.compiler, loadMs: performance.now() - t0 };
}
