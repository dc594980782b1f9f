// Finds Debian's Chromium, installing the `chromium` package with apt-get when it is missing,
// and launches it headless through playwright-core (Playwright's own browser download does not
// work on the project's machines).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const chromiumPath = process.env.RUCHY_CHROMIUM || '/usr/bin/chromium';

function run(cmd, args) {
  process.stderr.write(`$ ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, {
    stdio: ['ignore', process.stderr, 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with status ${r.status}`);
}

/**
 * Installs Debian `packages` with apt-get (as root, or through `sudo -n`) unless `path` exists;
 * returns `path`. The other browsers' installers (browsers.mjs) use it too.
 */
export function aptInstall(path, packages) {
  if (existsSync(path)) return path;
  process.stderr.write(`${path} is missing: installing Debian's ${packages.join(', ')}...\n`);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const [cmd, pre] = root ? ['apt-get', []] : ['sudo', ['-n', 'apt-get']];
  run(cmd, [...pre, 'update', '-q']);
  run(cmd, [...pre, 'install', '-y', '-q', '--no-install-recommends', ...packages]);
  if (!existsSync(path)) throw new Error(`apt-get installed ${packages.join(', ')} but ${path} is still missing`);
  return path;
}

/** Installs Debian's `chromium` package (apt-get, as root or through sudo) if it is missing. */
export function ensureChromium() {
  return aptInstall(chromiumPath, ['chromium', 'fonts-liberation']);
}

/** Flags without which Chromium hangs on refused connections on these machines. */
export const chromiumArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Launches headless Debian Chromium through playwright-core (with a fresh temporary profile,
 * which Playwright makes and removes). Returns the Playwright `Browser`.
 */
export async function launchChromium() {
  const executablePath = ensureChromium();
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, headless: true, args: chromiumArgs, timeout: 60_000 });
}
