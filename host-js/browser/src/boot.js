// Starts the engine worker while the page's HTML is still being parsed: the build inlines this
// file into index.html as a classic script, first in <head>, so it runs before any other script
// has been fetched, and loading the component overlaps with everything the page does after.
// (As a module script of its own it ran only once the page's main script had run: 300-700 ms.)
// main.js adopts this worker; messages that arrive before it does are kept for it.
// The build defines __RUCHY_ASSETS__: the content hash of each file the page loads first, which
// goes into its URL (`worker.js?v=HASH`) so the browser may keep it (build.mjs, server.mjs).
(() => {
  const assets = __RUCHY_ASSETS__;
  const url = new URL('worker.js', document.baseURI);
  url.searchParams.set('v', assets['worker.js']);
  url.searchParams.set('core-v', assets['ruchy_kernel.core.wasm']);
  if (new URLSearchParams(location.search).get('warmup') === '0') url.searchParams.set('warmup', '0');
  // (what main.js starts a later worker with, after an interrupt: the same files)
  const workerUrl = url.href;
  url.searchParams.set('core', 'page');
  const worker = new Worker(url, { type: 'module', name: 'ruchy-engine' });
  // The component's core module is fetched and compiled here (off the page's thread: streaming
  // compilation runs in the browser's background threads) while the worker starts, then handed
  // to it; null tells the worker to fetch it itself.
  const core = { compiledAt: undefined };
  const fetchItself = () => worker.postMessage({ type: 'core-module', module: null });
  try {
    WebAssembly.compileStreaming(fetch(`ruchy_kernel.core.wasm?v=${assets['ruchy_kernel.core.wasm']}`)).then((module) => {
      core.compiledAt = performance.now();
      worker.postMessage({ type: 'core-module', module });
    }, fetchItself);
  } catch {
    fetchItself(); // a browser without streaming compilation
  }
  const early = [];
  const keep = (e) => {
    if (e.type === 'error') e.preventDefault();
    early.push(e);
  };
  worker.addEventListener('message', keep);
  worker.addEventListener('error', keep);
  window.__ruchyBoot = {
    worker,
    workerUrl,
    early,
    createdAt: performance.now(),
    core,
    release() {
      worker.removeEventListener('message', keep);
      worker.removeEventListener('error', keep);
    },
  };
})();
