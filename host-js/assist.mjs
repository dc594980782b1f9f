// The session's assistance calls through jco, as host-rs prints them (same text, same JSON):
//
//   node host-js/assist.mjs complete [--cell C].. [--json] 'SOURCE' CURSOR   completion at a byte offset
//   node host-js/assist.mjs inspect [--cell C].. [--json] 'SOURCE' CURSOR    the name at a byte offset, as Markdown
//   node host-js/assist.mjs is-complete [--json] 'SOURCE'                    complete, incomplete (indent) or invalid
//   node host-js/assist.mjs variables [--cell C].. [--since N] [--json]      the session's bindings (changed since N)
//
// The --cell cells run first, in a fresh session (a failing one is reported on stderr).
// inspect exits 1 when there is nothing at the cursor.
import { loadEngineTimed } from './lib.mjs';
import * as json from './json.mjs';
import { renderDiagnostic } from './render.mjs';

/** Each command: its positional arguments and whether it takes --cell. */
const COMMANDS = {
  complete: { positional: ['SOURCE', 'CURSOR'], cells: true },
  inspect: { positional: ['SOURCE', 'CURSOR'], cells: true },
  'is-complete': { positional: ['SOURCE'], cells: false },
  variables: { positional: [], cells: true, since: true },
};

function usage(message) {
  if (message) console.error(`assist: ${message}`);
  console.error('usage: node host-js/assist.mjs complete|inspect|is-complete|variables [--cell C].. [--json] ARGS');
  process.exit(2);
}

/** A session generation (WIT u64, a BigInt in JavaScript). */
function generation(text) {
  if (!/^\d+$/.test(text ?? '') || BigInt(text) >= 2n ** 64n) usage(`--since takes a generation, not ${text}`);
  return BigInt(text);
}

function parseArgs(argv) {
  const [command, ...rest] = argv;
  const spec = COMMANDS[command];
  if (!spec) usage(command === undefined ? 'a command is needed' : `unknown command ${command}`);
  const o = { command, cells: [], json: false, args: [], since: undefined };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--json') o.json = true;
    else if (spec.cells && a === '--cell' && i + 1 < rest.length) o.cells.push(rest[++i]);
    else if (spec.cells && a.startsWith('--cell=')) o.cells.push(a.slice('--cell='.length));
    else if (spec.since && (a === '--since' || a.startsWith('--since='))) o.since = generation(a === '--since' ? rest[++i] : a.slice('--since='.length));
    else if (a.startsWith('--') && a.length > 2) usage(`unexpected argument ${a}`);
    else o.args.push(a);
  }
  if (o.args.length !== spec.positional.length) usage(`${command} takes ${spec.positional.join(' ') || 'no arguments'}`);
  if (spec.positional[1] === 'CURSOR') {
    if (!/^\d+$/.test(o.args[1]) || Number(o.args[1]) > 0xffffffff) usage(`CURSOR is a byte offset, not ${o.args[1]}`);
    o.args[1] = Number(o.args[1]);
  }
  return o;
}

/** Rust's `{:?}` of a string, which host-rs uses for the indent of `incomplete`. */
function rustDebug(s) {
  const esc = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    if (esc[ch]) out += esc[ch];
    else if (cp < 0x20 || cp === 0x7f) out += `\\u{${cp.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}

const print = (text) => process.stdout.write(`${text}\n`);

const o = parseArgs(process.argv.slice(2));
const { engine } = await loadEngineTimed();
const session = new engine.Session();
for (const cell of o.cells) {
  const r = session.executeCell(cell);
  if (r.diagnostic) process.stderr.write(renderDiagnostic(r.diagnostic, cell, 'cell'));
}
if (o.command === 'complete') {
  const c = session.complete(o.args[0], o.args[1]);
  if (o.json) print(json.stringify(json.completions(c)));
  else for (const i of c.items) print(`${i.label}\t${i.kind}\t${i.detail}`);
} else if (o.command === 'inspect') {
  const i = session.inspect(o.args[0], o.args[1]);
  if (o.json) print(json.stringify(json.inspection(i)));
  else if (i) print(i.markdown);
  if (!i) process.exitCode = 1;
} else if (o.command === 'is-complete') {
  const c = session.isComplete(o.args[0]);
  if (o.json) print(json.stringify(json.completeness(c), false));
  else print(c.tag === 'incomplete' ? `incomplete ${rustDebug(c.val)}` : c.tag);
} else if (o.since !== undefined) {
  // only what the cells after that generation bound or changed, and the generation now
  const u = session.variablesSince(o.since);
  if (o.json) print(json.stringify(json.variablesUpdate(u)));
  else {
    print(`generation ${u.generation}`);
    for (const v of u.changed) print(`${v.name}\t${v.typeName}\t${v.display}`);
  }
} else {
  const vars = session.variables();
  if (o.json) print(json.stringify(json.variables(vars)));
  else for (const v of vars) print(`${v.name}\t${v.typeName}\t${v.display}`);
}
