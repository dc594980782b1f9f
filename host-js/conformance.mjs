// The conformance corpus (tests/cases/*.cases) run through the jco-transpiled component.
// The case format and the comparison rules are those of tests/harness/src/lib.rs (cases.mjs).
//
//   node host-js/conformance.mjs        exits 1 if any cell or query differs
//   CASES=25-notebook node host-js/conformance.mjs    only the files whose path contains it
//   RUCHY_COMPONENT=kernel node host-js/conformance.mjs    against the kernel component (the
//                                                          Rust export checks are skipped)
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureDeps, flavor, loadEngine, root } from './lib.mjs';

// the npm packages first: cases.mjs checks XML with one of them
ensureDeps();
const { actualOf, ask, caseFiles, checkQuery, compare, parseCases } = await import('./cases.mjs');

const casesDir = join(root, 'tests', 'cases');

const { engine, compiler } = await loadEngine();

/** The rules must catch differences too: a case whose every expectation is wrong fails each. */
function selfCheck() {
  const text = [
    '=== wrong on purpose',
    '>>> println("é"); display(1); [{k: 1}]',
    '| é', '[{k: 1}]',
    '%% text/plain', '%% text/html contains <th>zz</th>', '%% text/html count 2 <td', '%% image/svg+xml xml',
    '%1 offset 2',
    '?complete [1].pu<|>', '= 0-1', '+ push function', '- push',
    '?is-complete fun f() {', '= incomplete 2',
    '?variables', '= 1', '+ k: Int = 1',
  ].join('\n');
  const [c] = parseCases(text, 'self-check');
  const session = new engine.Session();
  const cell = c.cells[0];
  const problems = compare(cell.expected, actualOf(session.executeCell(cell.source)));
  const missed = cell.queries.flatMap((q) => checkQuery(q, ask(session, q.query)).filter((m) => m.startsWith('  expected')));
  session[Symbol.dispose]?.();
  // the value's MIME types, contains, count and xml, the output's offset (3: "é" is 2 bytes);
  // then 3 + 1 + 2 query lines
  return problems.length === 5 && missed.length === 6 ? [] : [`jco: the runner's own check found ${problems.length} of 5 cell problems and ${missed.length} of 6 query problems:\n${[...problems, ...missed].join('\n')}`];
}
const files = caseFiles(casesDir).filter((f) => !process.env.CASES || f.includes(process.env.CASES));
const cases = files.flatMap((f) => parseCases(readFileSync(f, 'utf8'), relative(root, f)));
if (!cases.length) {
  console.error('jco: the corpus is empty');
  process.exit(1);
}
const failures = selfCheck();
let checked = 0;
const indent = (s) => s.replaceAll('\n', '\n    ');
for (const c of cases) {
  const session = new engine.Session();
  if (Object.keys(c.limits).length) session.setLimits({ ...session.getLimits(), ...c.limits });
  for (const cell of c.cells) {
    const r = c.script ? session.runScript(cell.source) : session.executeCell(cell.source);
    checked++;
    const problems = compare(cell.expected, actualOf(r));
    if (problems.length) {
      const shown = cell.source.length > 300 ? `${cell.source.slice(0, 300)}... (${cell.source.length} bytes)` : cell.source;
      failures.push(`${c.file}:${cell.line}: case "${c.name}", cell:\n    ${indent(shown)}\n${problems.join('\n')}`);
    }
    // queries run on the session as it is after the cell
    for (const q of cell.queries) {
      checked++;
      const missed = checkQuery(q, ask(session, q.query));
      if (missed.length) failures.push(`${c.file}:${q.line}: case "${c.name}", query ${JSON.stringify(q.query)}:\n${missed.join('\n')}`);
    }
  }
  session[Symbol.dispose]?.();
}

// export-rust and compile-cells through jco: the same Rust for the seed cells, and a cell's
// diagnostic points into that cell (jco throws a result's error as `{ payload }`); the kernel
// has no Rust export, so they are skipped there (and it must not have one)
if (!compiler) {
  if (flavor !== 'kernel') failures.push('jco: the full component has no compiler interface');
} else {
  const seed = ['let x = 42', 'let y = x * 2 + 1', 'fun double(n: Int) -> Int { n * 2 }', 'let result = double(21)', 'if x > 0 { x } else { 0 }'];
  const session = new engine.Session();
  for (const cell of seed) session.executeCell(cell);
  session.executeCell('missing + 1');
  const exported = compiler.exportRust(session);
  const compiled = compiler.compileCells(seed);
  if (exported !== compiled || !exported.includes('fn double(n: i64) -> i64 {') || exported.includes('missing')) {
    failures.push('jco: export-rust is not compile-cells of the successful cells');
  }
  try {
    compiler.compileCells(['let a = 1', 'let b = [a, "two"]']);
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
console.error(`jco (${flavor} component): ${cases.length} cases, ${checked} cells, all as expected${compiler ? '' : '; Rust export skipped (the kernel has none)'}`);
