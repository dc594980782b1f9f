// A small static server for the notebook page, on localhost only. `.wasm` is served as
// application/wasm (streaming compilation needs it). Before it answers a request for the page
// itself it checks that the build is current, so a rebuilt component is picked up on reload.
// A file is sent compressed when the browser accepts an encoding the build wrote it in
// (`F.br`, `F.gz` beside `F`; brotli first): the kernel's core module goes as 318 KB of brotli
// instead of 1.1 MB. The files the page asks for with their content's hash (`main.js?v=HASH`,
// when HASH is the build's: build.json) and esbuild's hash-named chunks may be kept by the
// browser for a year (`immutable`: a reload does not ask for them again); everything else is
// revalidated on every use (`no-cache` and an ETag).
import { createServer } from 'node:http';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { distDir, ensureBuilt, ENCODINGS, stampPath } from './build.mjs';

export const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ipynb': 'application/x-ipynb+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * Serves dist/ on `host:port` (port 0: a free port). Resolves with `{ server, url, close }`.
 * `rebuild: true` (the default) checks the build before serving the page.
 */
export async function startServer({ port = 0, host = '127.0.0.1', rebuild = true, log = false } = {}) {
  await ensureBuilt();
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      let path = decodeURIComponent(url.pathname);
      if (path.endsWith('/')) path += 'index.html';
      if (rebuild && path === '/index.html') await ensureBuilt();
      const file = normalize(join(distDir, path));
      if (!file.startsWith(distDir + sep)) return send(res, 403, 'forbidden');
      let st;
      try {
        st = statSync(file);
      } catch {
        return send(res, 404, 'not found');
      }
      if (!st.isFile()) return send(res, 404, 'not found');
      const [encoding, body, bst] = pickEncoding(file, st, req.headers['accept-encoding']);
      const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}${encoding ? `-${encoding}` : ''}"`;
      const headers = {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        ...(encoding ? { 'Content-Encoding': encoding } : {}),
        Vary: 'Accept-Encoding',
        'Cache-Control': immutable(path, url.searchParams.get('v')) ? 'public, max-age=31536000, immutable' : 'no-cache',
        ETag: etag,
        'X-Content-Type-Options': 'nosniff',
        // cross-origin isolation: performance.now() (the WASI clock the component times cells
        // with) then ticks in 5 us steps instead of 100 us
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
        'Cross-Origin-Resource-Policy': 'same-origin',
      };
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers);
        return res.end();
      }
      res.writeHead(200, { ...headers, 'Content-Length': bst.size });
      if (req.method === 'HEAD') return res.end();
      createReadStream(body).pipe(res);
      if (log) process.stderr.write(`${req.method} ${url.pathname} 200\n`);
    } catch (e) {
      send(res, 500, String(e?.message ?? e));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const addr = server.address();
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}/`;
  return { server, url, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }) };
}

/** The build's content hashes (build.json `versions`), read again when the build changes. */
let versionsOf = { mtimeMs: -1, versions: {} };
function buildVersions() {
  try {
    const { mtimeMs } = statSync(stampPath);
    if (mtimeMs !== versionsOf.mtimeMs) versionsOf = { mtimeMs, versions: JSON.parse(readFileSync(stampPath, 'utf8')).versions ?? {} };
  } catch {
    versionsOf = { mtimeMs: -1, versions: {} };
  }
  return versionsOf.versions;
}

/** Whether `path` (as asked for, with `?v=version`) names content that never changes: a file
 * asked for with the hash the build gave it, or one of esbuild's chunks (`chunks/NAME-HASH.js`). */
export function immutable(path, version) {
  if (/^\/chunks\/[^/]+-[A-Z0-9]{8}\.js$/.test(path)) return true;
  const v = buildVersions()[path.slice(1)];
  return Boolean(version && v && version === v);
}

/**
 * The encoding to send `file` in: the first of the build's encodings (brotli, then gzip) that
 * `Accept-Encoding` allows (not `;q=0`) and that exists beside the file, no older than it.
 * Returns `[encoding or null, path to send, its stat]`.
 */
export function pickEncoding(file, st, acceptEncoding = '') {
  const accepted = new Set();
  for (const part of String(acceptEncoding).split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (name && !(q && Number(q.slice(2)) === 0)) accepted.add(name);
  }
  for (const [name, suffix] of ENCODINGS) {
    if (!accepted.has(name) && !accepted.has('*')) continue;
    try {
      const est = statSync(file + suffix);
      if (est.isFile() && est.mtimeMs >= st.mtimeMs) return [name, file + suffix, est];
    } catch {
      // not written for this file (too small to gain)
    }
  }
  return [null, file, st];
}

function send(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text + '\n');
}
