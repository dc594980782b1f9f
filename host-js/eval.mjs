// One notebook cell in a fresh session, as `host-rs eval` does: its output, then its value;
// an error is rendered on stderr and the exit status is 1.
//
//   node host-js/eval.mjs 'SOURCE'
import { loadEngineTimed } from './lib.mjs';
import { renderDiagnostic } from './render.mjs';

const source = process.argv[2];
if (source === undefined) {
  console.error("usage: node host-js/eval.mjs 'SOURCE'");
  process.exit(2);
}
const { engine } = await loadEngineTimed();
const r = new engine.Session().executeCell(source);
process.stdout.write(r.stdout);
if (r.display !== undefined) process.stdout.write(`${r.display}\n`);
if (r.diagnostic) {
  process.stderr.write(renderDiagnostic(r.diagnostic, source, 'cell'));
  process.exitCode = 1;
}
