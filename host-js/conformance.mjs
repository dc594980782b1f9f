// The conformance corpus (tests/cases/*.cases) run through the jco-transpiled component.
// The case format and the comparison rules are those of tests/harness/src/lib.rs.
//
//   node host-js/conformance.mjs        exits 1 if any cell differs
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadEngine, root } from './lib.mjs';

const casesDir = join(root, 'tests', 'cases');

function caseFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...caseFiles(p));
    else if (name.endsWith('.cases')) out.push(p);
  }
  return out.sort();
}

function parsePosition(s) {
  const m = /^(\d+):(\d+)$/.exec(s);
  return m ? { line: Number(m[1]), column: Number(m[2]) } : undefined;
}

// `!! KIND[ @L:C[-L:C]]: MESSAGE`
function parseErrorLine(rest) {
  const i = rest.indexOf(': ');
  if (i < 0) return undefined;
  const head = rest.slice(0, i).split(/\s+/).filter(Boolean);
  const message = rest.slice(i + 2);
  const kind = head[0];
  if (!['parse', 'type', 'runtime', 'limit'].includes(kind) || head.length > 2) return undefined;
  let start, end;
  if (head[1] !== undefined) {
    if (!head[1].startsWith('@')) return undefined;
    const [a, b] = head[1].slice(1).split('-');
    start = parsePosition(a);
    if (!start) return undefined;
    if (b !== undefined) {
      end = parsePosition(b);
      if (!end) return undefined;
    }
  }
  return { kind, start, end, message };
}

export function parseCases(text, file) {
  const cases = [];
  let display = [];
  let inCell = false;
  const fail = (n, msg) => { throw new Error(`${file}:${n}: ${msg}`); };
  const flush = () => {
    while (display.length && display[display.length - 1] === '') display.pop();
    const c = cases[cases.length - 1];
    const cell = c?.cells[c.cells.length - 1];
    if (cell && display.length) cell.expected.display = display.join('\n');
    display = [];
  };
  text.split('\n').forEach((raw, i) => {
    const n = i + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('===')) {
      flush();
      let rest = line.slice(3).trim();
      const limits = {};
      const at = rest.indexOf('@limits');
      if (at >= 0) {
        for (const kv of rest.slice(at + '@limits'.length).trim().split(/\s+/).filter(Boolean)) {
          const [k, v] = kv.split('=');
          const key = { 'time-ms': 'timeMs', 'memory-bytes': 'memoryBytes', 'call-depth': 'callDepth', 'output-bytes': 'outputBytes' }[k];
          if (!key || !/^\d+$/.test(v ?? '')) fail(n, `bad limit \`${kv}\``);
          limits[key] = key === 'timeMs' || key === 'memoryBytes' ? BigInt(v) : Number(v);
        }
        rest = rest.slice(0, at).trim();
      }
      const script = rest.endsWith('@script');
      if (script) rest = rest.slice(0, -'@script'.length).trim();
      if (!rest) fail(n, 'a case needs a name after `===`');
      cases.push({ name: rest, file, line: n, script, limits, cells: [] });
      inCell = false;
      return;
    }
    const c = cases[cases.length - 1];
    if (!c) {
      if (line.trim() === '' || line.startsWith('#')) return;
      fail(n, 'text before the first `=== case`');
    }
    if (line.startsWith('>>>')) {
      let src = line.slice(3);
      if (src.startsWith(' ')) src = src.slice(1);
      if (c.script && c.cells.length) {
        if (display.length || c.cells[0].expected.stdout) fail(n, 'a script has one program: all `>>>` lines come first');
        c.cells[0].source += '\n' + src;
      } else {
        flush();
        c.cells.push({ source: src, line: n, expected: { display: undefined, stdout: '', error: undefined } });
      }
      inCell = true;
      return;
    }
    if (line.startsWith('...')) {
      if (!inCell) fail(n, '`...` continues a cell: it must follow `>>>` or `...`');
      let src = line.slice(3);
      if (src.startsWith(' ')) src = src.slice(1);
      c.cells[c.cells.length - 1].source += '\n' + src;
      return;
    }
    inCell = false;
    const cell = c.cells[c.cells.length - 1];
    if (!cell) {
      if (line.trim() === '' || line.startsWith('#')) return;
      fail(n, 'an expectation before the first `>>>` cell');
    }
    if (line === '|') cell.expected.stdout += '\n';
    else if (line.startsWith('|~ ')) cell.expected.stdout += line.slice(3);
    else if (line.startsWith('| ')) cell.expected.stdout += line.slice(2) + '\n';
    else if (line.startsWith('!! ')) {
      if (cell.expected.error) fail(n, 'a cell has at most one `!!` error');
      const e = parseErrorLine(line.slice(3));
      if (!e) fail(n, 'expected `!! KIND[ @L:C[-L:C]]: MESSAGE` with KIND parse, type, runtime or limit');
      cell.expected.error = e;
    } else if (line.startsWith('#') && display.length === 0) {
      // a comment between cells
    } else if (c.script) {
      if (line.trim() !== '') fail(n, 'a script case checks only `|` output and `!!` errors');
    } else display.push(line);
  });
  flush();
  for (const c of cases) if (!c.cells.length) fail(c.line, 'a case needs at least one `>>>` cell');
  // `{{repeat N TEXT}}`: TEXT N times (`\n` in TEXT is a newline), as tests/harness expands it
  for (const c of cases) {
    for (const cell of c.cells) {
      cell.source = cell.source.replace(/\{\{repeat (\d+) (.*?)\}\}/gs, (_, count, text) => text.replaceAll('\\n', '\n').repeat(Number(count)));
    }
  }
  return cases;
}

const samePos = (e, a) => e === undefined || (e.line === a.line && e.column === a.column);

function compare(expected, actual) {
  const problems = [];
  const q = JSON.stringify;
  if (expected.stdout !== actual.stdout) problems.push(`  stdout:  expected ${q(expected.stdout)}\n           got      ${q(actual.stdout)}`);
  if (expected.display !== actual.display) problems.push(`  display: expected ${q(expected.display)}\n           got      ${q(actual.display)}`);
  const e = expected.error;
  const a = actual.error;
  if (e && !a) problems.push(`  error:   expected ${e.kind} error ${q(e.message)}, got none`);
  else if (!e && a) problems.push(`  error:   expected none, got ${a.kind} error ${q(a.message)} at ${a.start.line}:${a.start.column}`);
  else if (e && a && (e.kind !== a.kind || e.message !== a.message || !samePos(e.start, a.start) || !samePos(e.end, a.end))) {
    problems.push(`  error:   expected ${e.kind} ${q(e.start)} ${q(e.message)}\n           got      ${a.kind} @${a.start.line}:${a.start.column}-${a.end.line}:${a.end.column}: ${q(a.message)}`);
  }
  return problems;
}

function actualOf(r) {
  const d = r.diagnostic;
  return {
    display: r.display,
    stdout: r.stdout,
    error: d && {
      kind: d.kind,
      message: d.message,
      start: { line: d.span.line, column: d.span.column },
      end: { line: d.span.endLine, column: d.span.endColumn },
    },
  };
}

const { engine } = await loadEngine();
const files = caseFiles(casesDir);
const cases = files.flatMap((f) => parseCases(readFileSync(f, 'utf8'), relative(root, f)));
if (!cases.length) {
  console.error('jco: the corpus is empty');
  process.exit(1);
}
const failures = [];
let checked = 0;
for (const c of cases) {
  const session = new engine.Session();
  if (Object.keys(c.limits).length) session.setLimits({ ...session.getLimits(), ...c.limits });
  for (const cell of c.cells) {
    const r = c.script ? session.runScript(cell.source) : session.executeCell(cell.source);
    checked++;
    const problems = compare(cell.expected, actualOf(r));
    if (problems.length) {
      const shown = cell.source.length > 300 ? `${cell.source.slice(0, 300)}... (${cell.source.length} bytes)` : cell.source;
      failures.push(`${c.file}:${cell.line}: case "${c.name}", cell:\n    ${shown.replaceAll('\n', '\n    ')}\n${problems.join('\n')}`);
    }
  }
  session[Symbol.dispose]?.();
}

// export-rust and compile-cells through jco: the same Rust for the seed cells, and a cell's
// diagnostic points into that cell (jco throws a result's error as `{ payload }`)
{
  const seed = ['let x = 42', 'let y = x * 2 + 1', 'fun double(n: Int) -> Int { n * 2 }', 'let result = double(21)', 'if x > 0 { x } else { 0 }'];
  const session = new engine.Session();
  for (const cell of seed) session.executeCell(cell);
  session.executeCell('missing + 1');
  const exported = session.exportRust();
  const compiled = engine.compileCells(seed);
  if (exported !== compiled || !exported.includes('fn double(n: i64) -> i64 {') || exported.includes('missing')) {
    failures.push('jco: export-rust is not compile-cells of the successful cells');
  }
  try {
    engine.compileCells(['let a = 1', 'let b = [a, "two"]']);
    failures.push('jco: compile-cells accepted a mixed array');
  } catch (e) {
    const err = e.payload?.[0];
    if (err?.cell !== 2 || err.diagnostic.span.start !== 12 || err.diagnostic.span.column !== 13) {
      failures.push(`jco: compile-cells' error does not point into its cell: ${JSON.stringify(e.payload ?? String(e))}`);
    }
  }
  session[Symbol.dispose]?.();
}
if (failures.length) {
  console.error(`jco: ${failures.length} of ${checked} cells differ from the corpus:\n\n${failures.join('\n\n')}`);
  process.exit(1);
}
console.error(`jco: ${cases.length} cases, ${checked} cells, all as expected`);
