// The three browser engines the page is tested and measured in, behind one small driver
// interface, so that the same end-to-end tests and bench (engines.mjs) run in each:
//
//   chromium  Debian's `chromium` (V8), headless, through playwright-core (chromium.mjs)
//   firefox   Debian's `firefox-esr` (SpiderMonkey), headless, through puppeteer-core over
//             WebDriver BiDi, with a temporary profile removed afterwards
//   webkit    Debian's `webkit2gtk-driver` (WebKitGTK's MiniBrowser, JavaScriptCore) through
//             WebKitWebDriver and selenium-webdriver; WebKitGTK has no headless mode, so it draws
//             on an Xvfb virtual display (Debian's `xvfb`), nothing is shown; every session
//             gets its own WebKitWebDriver and a temporary HOME, so a fresh profile
//
// Whatever is missing is installed: the Debian packages with apt-get (as root, or `sudo -n`),
// the npm packages with `npm ci` (build.mjs's ensureNpm). Every process started here (browser,
// driver, Xvfb) is killed and every temporary profile removed when the engine closes, and
// again when this process exits however it exits.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNpm } from './build.mjs';
import { aptInstall, chromiumArgs, chromiumPath, ensureChromium } from './chromium.mjs';

export const ENGINES = ['chromium', 'firefox', 'webkit'];
export const firefoxPath = process.env.RUCHY_FIREFOX || '/usr/bin/firefox-esr';
export const webkitDriverPath = process.env.RUCHY_WEBKIT_DRIVER || '/usr/bin/WebKitWebDriver';
export const xvfbPath = '/usr/bin/Xvfb';
/** What runs each engine's JavaScript and WebAssembly. */
export const JS_ENGINES = { chromium: 'V8', firefox: 'SpiderMonkey', webkit: 'JavaScriptCore' };

/** What each engine needs: [path that shows it is installed, Debian packages]. */
const NEEDS = {
  chromium: [[chromiumPath, ['chromium', 'fonts-liberation']]],
  firefox: [[firefoxPath, ['firefox-esr', 'fonts-liberation']]],
  webkit: [[xvfbPath, ['xvfb']], [webkitDriverPath, ['webkit2gtk-driver', 'fonts-liberation']]],
};

/**
 * Installs what `engines` need when it is missing: the npm packages (`npm ci`), then every
 * missing Debian package in one apt-get run. Returns nothing; throws when something is still
 * missing afterwards.
 */
export function ensureEngines(engines) {
  ensureNpm();
  for (const e of engines) if (!NEEDS[e]) throw new Error(`unknown engine ${e} (one of ${ENGINES.join(', ')})`);
  const missing = engines.flatMap((e) => NEEDS[e]).filter(([path]) => !existsSync(path));
  if (!missing.length) return;
  aptInstall(missing[0][0], [...new Set(missing.flatMap(([, packages]) => packages))]);
  for (const [path, packages] of missing) aptInstall(path, packages); // (each is there now, or says why not)
}

/** Installs what `engine` needs when it is missing; returns its browser's (or driver's) path. */
export function ensureEngine(engine) {
  ensureEngines([engine]);
  if (engine === 'chromium') return ensureChromium();
  return NEEDS[engine][NEEDS[engine].length - 1][0];
}

// ---------------------------------------------------------------------------------------------
// Clean-up: the processes and directories to remove however this process ends.

const children = new Set(); // ChildProcess, each the leader of its own process group
const tempDirs = new Set();

function killGroup(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
}

process.on('exit', () => {
  for (const c of children) killGroup(c);
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, () => process.exit(130));

function tempDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

function removeDir(d) {
  rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

/** Starts `cmd` in a process group of its own, remembered for clean-up. */
function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { detached: true, ...opts });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stop(child, graceMs = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
  const t = setTimeout(() => killGroup(child), graceMs);
  await exited;
  clearTimeout(t);
  // what else the group still holds (a browser's helper processes), right after its leader
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* an empty group */ }
}

/** Rejects after `ms` with `what` in the message. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${(ms / 1000).toFixed(0)} s`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

const freePort = () => new Promise((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

// ---------------------------------------------------------------------------------------------
// The page interface every engine implements:
//
//   goto(url), reload()                   navigate and wait for the load event
//   evaluate(fn, ...args)                 run fn in the page (awaited); arguments and result go
//                                         through JSON, the same in every engine
//   waitFor(fn, args, { timeout, what })  poll fn in the page until it returns something truthy
//   click(selector)                       a real click on the first match (scrolled into view)
//   type(text), press(keys)               the keyboard: keys as 'Shift+Enter', 'Control+a', 'Tab'
//   setInputFiles(selector, path)         choose a file in an <input type=file>
//   screenshot(path)
//   errors                                uncaught errors and console.error in the page
//   close()

const BIGINT = '(k, x) => (typeof x === "bigint" ? Number(x) : x)';

/** The JSON round trip, awaited in the page, of `fn(...args)`. */
const expression = (fn, args) => `Promise.resolve().then(() => (${fn})(...${JSON.stringify(args)})).then((v) => JSON.stringify(v === undefined ? null : v, ${BIGINT}))`;

/** Polls `fn(...args)` in the page every 20 ms until it is truthy (its value) or `timeout`. */
const pollExpression = (fn, args, timeout, what) => `(async () => {
  const f = (${fn}); const args = ${JSON.stringify(args)}; const t0 = performance.now();
  for (;;) {
    const v = await f(...args);
    if (v) return JSON.stringify(v, ${BIGINT});
    if (performance.now() - t0 > ${timeout}) throw new Error(${JSON.stringify(`timed out after ${timeout} ms waiting for ${what}`)});
    await new Promise((r) => setTimeout(r, 20));
  }
})()`;

/** Records errors in the page (for engines whose driver does not report them itself). */
const ERROR_TRAP = `(() => {
  if (window.__engineErrors) return;
  const errors = window.__engineErrors = [];
  addEventListener('error', (e) => errors.push('page error: ' + (e.message || e)));
  addEventListener('unhandledrejection', (e) => errors.push('page error: unhandled rejection: ' + (e.reason && e.reason.message || e.reason)));
  const ce = console.error;
  console.error = (...a) => { errors.push('console error: ' + a.join(' ')); ce.apply(console, a); };
})()`;

function splitKeys(keys) {
  const parts = keys.split('+');
  // 'Control++' would be Control and '+'; no test presses that
  return { mods: parts.slice(0, -1).map((m) => (m === 'ControlOrMeta' ? 'Control' : m)), key: parts[parts.length - 1] };
}

const WAIT_MS = 30_000;

class PlaywrightPage {
  constructor(context, page) {
    this.context = context;
    this.page = page;
    this.errors = [];
    page.on('pageerror', (e) => this.errors.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') this.errors.push(`console error: ${m.text()}`); });
  }
  async goto(url) { await this.page.goto(url, { timeout: 60_000 }); }
  async reload() { await this.page.reload({ timeout: 60_000 }); }
  async evaluate(fn, ...args) { return JSON.parse(await this.page.evaluate(expression(fn, args))); }
  async waitFor(fn, args = [], { timeout = WAIT_MS, what = 'a condition' } = {}) { return JSON.parse(await this.page.evaluate(pollExpression(fn, args, timeout, what))); }
  async click(selector) { await this.page.locator(selector).first().click({ timeout: WAIT_MS }); }
  async type(text) { await this.page.keyboard.type(text); }
  async press(keys) { await this.page.keyboard.press(keys.replace('ControlOrMeta', 'Control')); }
  async setInputFiles(selector, path) { await this.page.setInputFiles(selector, path); }
  async screenshot(path) { await this.page.screenshot({ path, fullPage: true }); }
  async close() { await this.context.close(); }
}

class PuppeteerPage {
  constructor(context, page) {
    this.context = context;
    this.page = page;
    this.errors = [];
    page.on('pageerror', (e) => this.errors.push(`page error: ${e.message ?? e}`));
    page.on('console', (m) => { if (m.type() === 'error') this.errors.push(`console error: ${m.text()}`); });
  }
  async goto(url) { await this.page.goto(url, { timeout: 60_000, waitUntil: 'load' }); }
  async reload() { await this.page.reload({ timeout: 60_000, waitUntil: 'load' }); }
  async evaluate(fn, ...args) { return JSON.parse(await this.page.evaluate(expression(fn, args))); }
  async waitFor(fn, args = [], { timeout = WAIT_MS, what = 'a condition' } = {}) { return JSON.parse(await this.page.evaluate(pollExpression(fn, args, timeout, what))); }
  async click(selector) {
    const el = await this.page.waitForSelector(selector, { timeout: WAIT_MS });
    await el.click();
    await el.dispose();
  }
  async type(text) { await this.page.keyboard.type(text); }
  async press(keys) {
    const { mods, key } = splitKeys(keys);
    for (const m of mods) await this.page.keyboard.down(m);
    await this.page.keyboard.press(key);
    for (const m of mods.reverse()) await this.page.keyboard.up(m);
  }
  async setInputFiles(selector, path) {
    const el = await this.page.$(selector);
    await el.uploadFile(path);
    await el.dispose();
  }
  async screenshot(path) { await this.page.screenshot({ path, fullPage: true }); }
  async close() { await this.context.close(); }
}

class SeleniumPage {
  constructor(driver, { Key, By }, dispose) {
    this.driver = driver;
    this.Key = Key;
    this.By = By;
    this.dispose = dispose;
    this.pageErrors = [];
  }
  async trap() { await this.driver.executeScript(ERROR_TRAP); }
  get errors() { return this.pageErrors; }
  set errors(v) { this.pageErrors = v; }
  /** The errors the trap saw since the last look (kept across navigations here). */
  async collect() {
    const seen = await this.driver.executeScript('return window.__engineErrors ? window.__engineErrors.splice(0) : [];').catch(() => []);
    this.pageErrors.push(...seen);
  }
  async goto(url) { await this.collect(); await this.driver.get(url); await this.trap(); }
  async reload() { await this.collect(); await this.driver.navigate().refresh(); await this.trap(); }
  async run(expr) {
    const r = await this.driver.executeAsyncScript(`const done = arguments[arguments.length - 1];
      Promise.resolve().then(() => ${expr}).then((v) => done({ ok: v }), (e) => done({ error: e && e.message ? \`\${e.message}\${e.stack ? \`\\n\${e.stack}\` : ''}\` : String(e) }));`);
    if (r.error) throw new Error(`in the page: ${r.error}`);
    return JSON.parse(r.ok);
  }
  evaluate(fn, ...args) { return this.run(expression(fn, args)); }
  waitFor(fn, args = [], { timeout = WAIT_MS, what = 'a condition' } = {}) { return this.run(pollExpression(fn, args, timeout, what)); }
  async click(selector) {
    const { until } = await import('selenium-webdriver');
    const el = await this.driver.wait(until.elementLocated(this.By.css(selector)), WAIT_MS);
    await this.driver.executeScript('arguments[0].scrollIntoView({ block: "center" })', el);
    await el.click();
  }
  async type(text) { await this.driver.actions().sendKeys(text).perform(); }
  async press(keys) {
    const { mods, key } = splitKeys(keys);
    const K = this.Key;
    const named = { Shift: K.SHIFT, Control: K.CONTROL, Alt: K.ALT, Meta: K.META, Enter: K.ENTER, Tab: K.TAB, Delete: K.DELETE, Backspace: K.BACK_SPACE, Escape: K.ESCAPE, ArrowLeft: K.ARROW_LEFT, ArrowRight: K.ARROW_RIGHT, ArrowUp: K.ARROW_UP, ArrowDown: K.ARROW_DOWN };
    const k = (n) => named[n] ?? n;
    let a = this.driver.actions();
    for (const m of mods) a = a.keyDown(k(m));
    a = a.keyDown(k(key)).keyUp(k(key));
    for (const m of [...mods].reverse()) a = a.keyUp(k(m));
    await a.perform();
  }
  async setInputFiles(selector, path) { await this.driver.findElement(this.By.css(selector)).sendKeys(path); }
  async screenshot(path) {
    // WebKitGTK snapshots the last frame it painted, and without a GPU it paints late (its first
    // frame after a load comes about 2 s later; WEBKIT_DISABLE_COMPOSITING_MODE=1, which avoids
    // that, makes the driver's screenshots hang): wait for two frames first
    await withTimeout(this.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))), 10_000, 'a frame').catch(() => {});
    writeFileSync(path, Buffer.from(await this.driver.takeScreenshot(), 'base64'));
  }
  async close() {
    await this.collect();
    await this.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Launchers. Each returns { name, version, jsEngine, how, newPage(), close() }: newPage() is a
// page in a fresh profile (a new browser context, or for WebKit a new browser).

const VIEWPORT = { width: 1280, height: 900 };

async function launchChromiumEngine() {
  const executablePath = ensureEngine('chromium');
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, headless: true, args: chromiumArgs, timeout: 60_000 });
  return {
    name: 'chromium',
    version: `Chromium ${browser.version()}`,
    how: `${chromiumPath}, headless, playwright-core`,
    async newPage() {
      const context = await browser.newContext({ viewport: VIEWPORT });
      return new PlaywrightPage(context, await context.newPage());
    },
    async close() { await withTimeout(browser.close(), 15_000, 'closing Chromium'); },
  };
}

async function launchFirefoxEngine() {
  const executablePath = ensureEngine('firefox');
  const puppeteer = (await import('puppeteer-core')).default;
  const profile = tempDir('ruchy-firefox-');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath,
    headless: true,
    userDataDir: profile,
    timeout: 60_000,
    protocolTimeout: 15 * 60_000,
    defaultViewport: VIEWPORT,
    extraPrefsFirefox: {
      'app.update.enabled': false,
    },
  });
  const proc = browser.process();
  if (proc) children.add(proc);
  const version = execFileSync(executablePath, ['--version'], { encoding: 'utf8' }).trim().replace(/^Mozilla /, '');
  return {
    name: 'firefox',
    version,
    how: `${executablePath}, headless, puppeteer-core over WebDriver BiDi`,
    async newPage() {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      await page.setViewport(VIEWPORT);
      return new PuppeteerPage(context, page);
    },
    async close() {
      try {
        await withTimeout(browser.close(), 15_000, 'closing Firefox');
      } finally {
        if (proc) await stop(proc, 1000);
        removeDir(profile);
      }
    },
  };
}

/** An Xvfb display, started once for every WebKit session of this process. */
let xvfb = null;
async function display() {
  if (xvfb && xvfb.child.exitCode === null) return xvfb.display;
  const child = start(xvfbPath, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const n = await withTimeout(new Promise((resolve, reject) => {
    let out = '';
    child.stdio[3].on('data', (d) => { out += d; if (out.includes('\n')) resolve(out.trim()); });
    child.once('exit', (code) => reject(new Error(`Xvfb exited (${code}): ${stderr.trim()}`)));
  }), 20_000, 'starting Xvfb');
  child.stdio[3].destroy();
  xvfb = { child, display: `:${n}` };
  return xvfb.display;
}

async function launchWebKitEngine() {
  const driverPath = ensureEngine('webkit');
  const selenium = await import('selenium-webdriver');
  const disp = await display();
  const sessions = new Set();
  /** A WebKitWebDriver with its own temporary HOME (so a fresh profile), and a session in it. */
  async function session() {
    const home = tempDir('ruchy-webkit-');
    const port = await freePort();
    const env = { ...process.env, DISPLAY: disp, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data'), XDG_CACHE_HOME: join(home, 'cache'), XDG_RUNTIME_DIR: home, NO_AT_BRIDGE: '1' };
    delete env.WAYLAND_DISPLAY;
    const driver = start(driverPath, [`--port=${port}`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    driver.stderr.on('data', (d) => { log = (log + d).slice(-4000); });
    const dispose = async () => {
      sessions.delete(dispose);
      try {
        if (wd) await withTimeout(wd.quit(), 10_000, 'ending the WebKit session');
      } catch { /* killed below */ }
      await stop(driver, 1000);
      removeDir(home);
    };
    sessions.add(dispose);
    let wd;
    try {
      // the driver answers /status once it listens
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 20_000;
      for (;;) {
        if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited (${driver.exitCode}): ${log}`);
        if (await fetch(`${base}/status`).then((r) => r.ok, () => false)) break;
        if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not listen on ${base} within 20 s: ${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const caps = new selenium.Capabilities({ browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { args: ['--automation'] } });
      wd = new selenium.Builder().usingServer(base).withCapabilities(caps).build();
      await withTimeout(wd.getSession(), 60_000, 'starting a WebKit session (MiniBrowser)');
      await wd.manage().setTimeouts({ script: 15 * 60_000, pageLoad: 60_000, implicit: 0 });
      await wd.manage().window().setRect(VIEWPORT).catch(() => {});
      return { wd, dispose };
    } catch (e) {
      wd = null;
      await dispose();
      throw new Error(`${e.message}${log ? `\nWebKitWebDriver said: ${log.trim()}` : ''}`);
    }
  }
  const first = await session();
  const caps = await first.wd.getCapabilities();
  const version = `WebKitGTK ${caps.get('browserVersion')}`;
  await first.dispose();
  return {
    name: 'webkit',
    version,
    how: `${driverPath} and MiniBrowser on Xvfb ${disp} (no headless mode in WebKitGTK), selenium-webdriver`,
    async newPage() {
      const { wd, dispose } = await session();
      return new SeleniumPage(wd, selenium, dispose);
    },
    async close() {
      for (const d of [...sessions]) await d();
      if (xvfb) { await stop(xvfb.child, 1000); xvfb = null; }
    },
  };
}

/** Launches `engine` (installing what is missing), within 2 minutes. */
export function launchEngine(engine) {
  const launch = { chromium: launchChromiumEngine, firefox: launchFirefoxEngine, webkit: launchWebKitEngine }[engine];
  if (!launch) throw new Error(`unknown engine ${engine} (one of ${ENGINES.join(', ')})`);
  return withTimeout(launch(), 120_000, `launching ${engine}`).then((e) => ({ ...e, jsEngine: JS_ENGINES[engine] }));
}

/** Kills whatever this module started (for an overall time-out). */
export function killAll() {
  for (const c of children) killGroup(c);
}

