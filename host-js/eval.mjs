// One notebook cell in a fresh session, as `host-rs eval` does: its output with each
// `display(...)` output's text where it was made, then its value; an error is rendered on
// stderr and the exit status is 1. `--json` prints the cell result as host-rs eval --json does.
//
//   node host-js/eval.mjs [--json] [--time-ms N] 'SOURCE'
import { loadEngineTimed } from './lib.mjs';
import { cellResult, stringify } from './json.mjs';
import { cellText, renderDiagnostic } from './render.mjs';

const usage = "usage: node host-js/eval.mjs [--json] [--time-ms N] 'SOURCE'";
const args = process.argv.slice(2);
let json = false;
let timeMs;
let source;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--json') json = true;
  else if (a === '--time-ms' && /^\d+$/.test(args[i + 1] ?? '')) timeMs = BigInt(args[++i]);
  else if (a.startsWith('--') && source === undefined) {
    console.error(usage);
    process.exit(2);
  } else if (source === undefined) source = a;
  else {
    console.error(usage);
    process.exit(2);
  }
}
if (source === undefined) {
  console.error(usage);
  process.exit(2);
}
const { engine } = await loadEngineTimed();
const session = new engine.Session();
if (timeMs !== undefined) session.setLimits({ ...session.getLimits(), timeMs });
const r = session.executeCell(source);
if (json) {
  process.stdout.write(`${stringify(cellResult(r))}\n`);
  if (r.diagnostic) process.exitCode = 1;
} else {
  process.stdout.write(cellText(r));
  if (r.diagnostic) {
    process.stderr.write(renderDiagnostic(r.diagnostic, source, 'cell'));
    process.exitCode = 1;
  }
}
