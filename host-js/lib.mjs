// Shared by the Node host's commands: makes sure the npm packages, the component and its jco
// transpilation exist and are current, then loads the component's `engine` interface.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..');
/** The component, at its fixed path (built by `host-rs build-component`). */
export const componentPath = join(root, 'target', 'ruchy_notebook.wasm');
const genDir = join(here, 'gen');
const genEntry = join(genDir, 'ruchy_notebook.js');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with status ${r.status}`);
}

/** Installs the pinned npm packages (`npm ci`) if they are missing. */
export function ensureDeps() {
  if (!existsSync(join(here, 'node_modules', '@bytecodealliance', 'jco', 'package.json'))) {
    process.stderr.write('installing host-js packages (npm ci)...\n');
    run('npm', ['ci', '--no-audit', '--no-fund', '--prefix', here], { stdio: ['ignore', process.stderr, 'inherit'] });
  }
}

/** Builds the component with the Rust host if it is missing. */
export function ensureComponent() {
  if (!existsSync(componentPath)) {
    process.stderr.write('no component yet: building it (cargo run --release -p host-rs -- build-component)...\n');
    run('cargo', ['run', '--quiet', '--release', '-p', 'host-rs', '--', 'build-component'], { cwd: root });
  }
}

/** Transpiles the component with jco when its output is missing or older than the component. */
export async function ensureTranspiled() {
  const stale = !existsSync(genEntry) || statSync(genEntry).mtimeMs < statSync(componentPath).mtimeMs;
  if (!stale) return;
  process.stderr.write('transpiling the component with jco...\n');
  const { transpile } = await import('@bytecodealliance/jco');
  const { files } = await transpile(await readFile(componentPath), {
    name: 'ruchy_notebook',
    noTypescript: true,
  });
  await rm(genDir, { recursive: true, force: true });
  for (const [name, bytes] of Object.entries(files)) {
    if (name.endsWith('.d.ts')) continue;
    const path = join(genDir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
  }
}

/** Everything above, then the component's `engine` interface (and how long loading took). */
export async function loadEngine() {
  ensureDeps();
  ensureComponent();
  await ensureTranspiled();
  const t0 = performance.now();
  const mod = await import(pathToFileURL(genEntry).href);
  return { engine: mod.engine, loadMs: performance.now() - t0 };
}
