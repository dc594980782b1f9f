// Starts the engine worker as soon as the page begins to load, before the page's larger
// script (editors, markdown) has arrived and run: loading the component overlaps with it.
// main.js adopts this worker; messages that arrive before it does are kept for it.
const url = new URL('./worker.js', import.meta.url);
if (new URLSearchParams(location.search).get('warmup') === '0') url.searchParams.set('warmup', '0');
const worker = new Worker(url, { type: 'module', name: 'ruchy-engine' });
const early = [];
const keep = (e) => {
  if (e.type === 'error') e.preventDefault();
  early.push(e);
};
worker.addEventListener('message', keep);
worker.addEventListener('error', keep);
window.__ruchyBoot = {
  worker,
  early,
  createdAt: performance.now(),
  release() {
    worker.removeEventListener('message', keep);
    worker.removeEventListener('error', keep);
  },
};
