// Serves the notebook page on localhost, building it first if needed.
//
//   node host-js/browser/serve.mjs [--port N] [--host 127.0.0.1] [--log]
import { startServer } from './server.mjs';

const args = process.argv.slice(2);
const value = (flag, fallback) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : fallback;
};
const port = Number(value('--port', '8000'));
const host = value('--host', '127.0.0.1');
if (!Number.isInteger(port) || port < 0 || port > 65535 || args.includes('--help')) {
  console.error('usage: node host-js/browser/serve.mjs [--port N] [--host 127.0.0.1] [--log]');
  process.exit(args.includes('--help') ? 0 : 2);
}
try {
  const { url } = await startServer({ port, host, log: args.includes('--log') });
  console.log(`Ruchy notebook: ${url}`);
  console.log('(Ctrl+C to stop; the page is rebuilt on reload when the component or the sources change)');
} catch (e) {
  console.error(e.code === 'EADDRINUSE' ? `port ${port} is in use: try --port N (0 for any free port)` : `serve: ${e.message}`);
  process.exit(1);
}
