// The page's side of the engine worker: one request at a time, a watchdog on each, and the
// session rebuilt by replay when the worker has to be terminated.
//
// The engine's own limits end runaway cells with a `limit` diagnostic and keep the session.
// Should the worker not answer anyway (a cell that never ends, a hung or crashed worker), the
// watchdog (or the Interrupt button) terminates it, starts a new one and replays, in order,
// every cell source that had succeeded in the old session, so the bindings come back.

export class Interrupted extends Error {
  constructor(reason, message) {
    super(message);
    this.name = 'Interrupted';
    /** 'timeout' (the watchdog), 'interrupt' (the button), 'restart' or 'crash'. */
    this.reason = reason;
  }
}

const seconds = (ms) => `${(ms / 1000).toFixed(ms % 1000 ? 1 : 0)} s`;

export class Kernel extends EventTarget {
  /**
   * @param {object} o
   * @param {() => {worker: Worker, early?: Event[], release?: () => void}} o.createWorker
   *   a new worker, with the events it sent before the kernel listened (see boot.js)
   * @param {number} [o.cellTimeoutMs]  watchdog for one cell (12 s: the engine's own time limit, 10 s, ends runaway cells first)
   * @param {number} [o.benchTimeoutMs] watchdog for the benchmark (5 min)
   * @param {number} [o.loadTimeoutMs]  how long loading the component may take (60 s)
   */
  constructor({ createWorker, cellTimeoutMs = 12_000, benchTimeoutMs = 300_000, loadTimeoutMs = 60_000 }) {
    super();
    this.createWorker = createWorker;
    this.cellTimeoutMs = cellTimeoutMs;
    this.benchTimeoutMs = benchTimeoutMs;
    this.loadTimeoutMs = loadTimeoutMs;
    /** Sources that succeeded in the current session, in the order they ran. */
    this.succeeded = [];
    this.worker = null;
    this.loaded = false;
    this.fatal = null;
    this.current = null; // the request the worker is working on
    this.rebuilding = null; // a promise while a rebuild runs
    this.tail = Promise.resolve(); // requests run one after another
    this.nextId = 1;
    this.status = 'starting';
    this.ready = null;
    this.pendingStart = null;
    this.info = {};
  }

  /** 'starting', 'idle', 'busy', 'rebuilding' or 'dead'. */
  computeStatus() {
    if (this.fatal) return 'dead';
    if (this.rebuilding) return 'rebuilding';
    if (!this.loaded) return 'starting';
    return this.running ? 'busy' : 'idle';
  }

  /**
   * The request that runs code (a cell, the benchmark), if the worker is on one: what the
   * status and the Interrupt button follow. A question (completion, variables) takes
   * microseconds and is never interrupted.
   */
  get running() {
    const cur = this.current;
    return cur && (cur.op === 'execute' || cur.op === 'benchmark') ? cur : null;
  }

  update() {
    const s = this.computeStatus();
    if (s === this.status) return;
    this.status = s;
    this.dispatchEvent(new CustomEvent('status', { detail: s }));
  }

  /** Starts a fresh worker; resolves when the component is loaded. */
  start() {
    this.kill();
    const started = performance.now();
    this.loaded = false;
    this.fatal = null;
    const made = this.createWorker();
    const worker = made.worker;
    this.worker = worker;
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`the engine did not load within ${seconds(this.loadTimeoutMs)}`)), this.loadTimeoutMs);
      const fail = (err) => {
        clearTimeout(timer);
        this.pendingStart = null;
        if (worker !== this.worker) return reject(err);
        this.kill();
        this.fatal = err.message;
        this.update();
        this.dispatchEvent(new CustomEvent('fatal', { detail: err.message }));
        reject(err);
      };
      this.pendingStart = { worker, cancel: (err) => { clearTimeout(timer); this.pendingStart = null; reject(err); } };
      worker.onmessage = (event) => {
        const m = event.data;
        if (m.type === 'ready') {
          clearTimeout(timer);
          this.pendingStart = null;
          this.loaded = true;
          this.info = { loadMs: m.loadMs, startMs: performance.now() - started, readyAt: performance.now(), memoryBytes: m.memoryBytes, timeline: m.timeline };
          worker.onmessage = (e) => this.onReply(worker, e.data);
          this.update();
          this.dispatchEvent(new CustomEvent('ready', { detail: this.info }));
          resolve(this.info);
        } else if (m.type === 'fatal') fail(new Error(m.message));
      };
      worker.onerror = (event) => {
        event.preventDefault?.();
        const message = event.message || 'the engine worker failed';
        if (!this.loaded) fail(new Error(message));
        else this.onCrash(worker, message);
      };
      made.release?.();
      for (const e of made.early ?? []) {
        if (worker !== this.worker) break;
        if (e.type === 'message') worker.onmessage?.(e);
        else worker.onerror?.(e);
      }
    });
    this.ready.catch(() => {});
    this.update();
    return this.ready;
  }

  onReply(worker, m) {
    const cur = this.current;
    if (worker !== this.worker || !cur || cur.id !== m.id) return;
    if (m.ok) this.finish(cur, { value: m.value, roundTripMs: performance.now() - cur.sentAt, workerUs: m.workerUs });
    else this.onCrash(worker, m.message);
  }

  onCrash(worker, message) {
    if (worker !== this.worker) return;
    this.stop('crash', `the engine failed: ${message}`);
  }

  finish(cur, value, error) {
    clearTimeout(cur.timer);
    if (this.current === cur) this.current = null;
    this.update();
    if (error) cur.reject(error);
    else cur.resolve(value);
  }

  /** Sends one request when the worker is free; `timeoutMs` arms the watchdog. */
  request(msg, timeoutMs) {
    const run = async () => {
      while (this.rebuilding) await this.rebuilding;
      await this.ready;
      return this.send(msg, timeoutMs);
    };
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => {});
    return p;
  }

  send(msg, timeoutMs) {
    return new Promise((resolve, reject) => {
      if (!this.worker || !this.loaded) {
        reject(new Interrupted('crash', 'the engine is not running'));
        return;
      }
      const cur = { id: this.nextId++, op: msg.op, resolve, reject, sentAt: performance.now(), timer: 0, timeoutMs };
      cur.timer = setTimeout(() => {
        if (this.current === cur) this.stop('timeout', `no answer within ${seconds(timeoutMs)}: the engine worker was terminated`);
      }, timeoutMs);
      this.current = cur;
      this.update();
      this.worker.postMessage({ ...msg, id: cur.id });
    });
  }

  /**
   * Runs a cell. Resolves with `{ value: cellResult, roundTripMs, workerUs }`; rejects with
   * `Interrupted` when the watchdog or the Interrupt button ended it.
   */
  async execute(source) {
    const r = await this.request({ op: 'execute', source }, this.cellTimeoutMs);
    if (r.value.diagnostic === undefined) this.succeeded.push(source);
    return r;
  }

  /**
   * Asks the session something that runs no code (completion, inspection, variables). Resolves
   * with the answer, or `null` when the engine is busy with a cell, loading or rebuilding: an
   * editor should not wait behind a long cell for a completion.
   */
  query(msg) {
    if (this.current || this.rebuilding || !this.loaded) return Promise.resolve(null);
    return this.request(msg, this.cellTimeoutMs).then((r) => r.value, () => null);
  }

  /** Completion at `cursor` (a UTF-8 byte offset into `source`). */
  complete(source, cursor) {
    return this.query({ op: 'complete', source, cursor });
  }

  /** What the name at `cursor` (a UTF-8 byte offset) is, as Markdown; `null` if nothing. */
  inspect(source, cursor) {
    return this.query({ op: 'inspect', source, cursor });
  }

  /** `{ tag: 'complete' | 'incomplete' | 'invalid', val? }`. */
  isComplete(source) {
    return this.query({ op: 'isComplete', source });
  }

  /** The session's bindings: `[{ name, typeName, display }]`. */
  variables() {
    return this.query({ op: 'variables' });
  }

  benchmark(iterations) {
    return this.request({ op: 'benchmark', iterations }, this.benchTimeoutMs);
  }

  /**
   * The session's successful cells as one Rust program: the worker fetches the full component
   * on first use (the page runs on the kernel, which has no Rust export). Resolves with
   * `{ ok: true, rust, loadMs }` or `{ ok: false, errors: [{ cell, source, diagnostic }], loadMs }`.
   */
  exportRust() {
    return this.request({ op: 'exportRust', cells: [...this.succeeded] }, this.loadTimeoutMs).then((r) => r.value);
  }

  get busy() {
    return this.current !== null || this.rebuilding !== null;
  }

  kill() {
    const w = this.worker;
    this.worker = null;
    this.loaded = false;
    if (w) {
      w.onmessage = null;
      w.onerror = null;
      w.terminate();
    }
    if (this.pendingStart) this.pendingStart.cancel(new Interrupted('restart', 'the engine was stopped while loading'));
  }

  /** Terminates the worker, fails the running request with `message`, and rebuilds. */
  stop(reason, message) {
    const cur = this.current;
    this.current = null;
    this.kill();
    // During a rebuild, the replay sees the failure and starts an empty session itself.
    if (!this.rebuilding) this.rebuild(reason);
    if (cur) this.finish(cur, undefined, new Interrupted(reason, message));
  }

  /** The Interrupt button: ends the running request (if any) and rebuilds the session by replay. */
  interrupt() {
    if (!this.running) return false;
    this.stop('interrupt', 'stopped with the Interrupt button: the engine worker was terminated');
    return true;
  }

  /** A new worker with the succeeded cells replayed in order. */
  rebuild(reason) {
    const sources = this.succeeded;
    this.succeeded = [];
    const t0 = performance.now();
    let done;
    const job = (async () => {
      let replayed = 0;
      const failed = [];
      try {
        await this.start();
        for (const source of sources) {
          let r;
          try {
            r = await this.send({ op: 'execute', source }, this.cellTimeoutMs);
          } catch (e) {
            // the replay itself hung or crashed: give up on it and keep an empty session
            failed.push(source);
            this.succeeded = [];
            await this.start();
            return { replayed: 0, failed, gaveUp: true };
          }
          if (r.value.diagnostic === undefined) {
            this.succeeded.push(source);
            replayed++;
          } else failed.push(source);
        }
        return { replayed, failed, gaveUp: false };
      } finally {
        if (this.rebuilding === done) this.rebuilding = null;
        this.update();
      }
    })();
    done = job.then(
      (summary) => this.dispatchEvent(new CustomEvent('rebuilt', { detail: { reason, total: sources.length, ms: performance.now() - t0, ...summary } })),
      (err) => this.dispatchEvent(new CustomEvent('rebuilt', { detail: { reason, total: sources.length, ms: performance.now() - t0, replayed: 0, failed: sources, gaveUp: true, error: err.message } })),
    );
    this.rebuilding = done;
    this.update();
    return done;
  }

  /** A fresh session in a fresh worker: every binding is forgotten. */
  async restart() {
    const cur = this.current;
    this.current = null;
    this.succeeded = [];
    this.kill();
    if (cur) this.finish(cur, undefined, new Interrupted('restart', 'the session was restarted'));
    while (this.rebuilding) await this.rebuilding;
    this.succeeded = [];
    return this.start();
  }
}
