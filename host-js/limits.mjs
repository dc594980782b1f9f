// More than the instance can hold, asked for through several built-ins in Node: each cell
// ends with the memory limit's diagnostic from the same instance (a trap would throw here and
// leave the instance unusable), and the session keeps its bindings. The 8 GB limit asked for
// is lowered to the 1 GB a 32-bit instance takes; a 600 MB array fits, a copy does not.
//
//   node host-js/limits.mjs        exits 1 on any difference
import { loadEngine } from './lib.mjs';

const { engine } = await loadEngine();
const problems = [];
const session = new engine.Session();
session.setLimits({ ...session.getLimits(), memoryBytes: 8n << 30n });
const lowered = session.getLimits().memoryBytes;
if (lowered !== 1n << 30n) problems.push(`the memory limit is ${lowered}, not 1 GB`);

const value = (cell) => {
  const r = session.executeCell(cell);
  if (r.diagnostic) problems.push(`${cell}: ${r.diagnostic.message}`);
  return r.display;
};
value('let a = 1');
const made = value('let big = [0; 40000000]; big.len()');
if (made !== '40000000') problems.push(`the 600 MB array: ${made}`);
const cells = [
  'big.map(|x| x + 1).len()',
  'big.filter(|x| true).len()',
  '(big + big).len()',
  'big.enumerate().len()',
  'big.zip(big).len()',
  'range(0, 60000000).len()',
  '[big, big].flatten().len()',
  'let mut c = big; c.push(1); c.len()',
  '[0; 100000000].len()',
  'let s = "x" * 60000000; [s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s].join("").len()',
];
for (const cell of cells) {
  let r;
  try {
    r = session.executeCell(cell);
  } catch (e) {
    problems.push(`${cell}: the instance trapped: ${e}`);
    break;
  }
  const d = r.diagnostic;
  if (!d || d.kind !== 'limit' || !d.message.startsWith('Memory limit exceeded')) {
    problems.push(`${cell}: expected the memory limit, got ${d ? `${d.kind}: ${d.message}` : r.display}`);
  }
}
const after = problems.length ? null : value('a + big.len()');
if (!problems.length && after !== '40000001') problems.push(`after them: ${after}`);
const bytes = engine.memoryBytes();
if (bytes > 4n << 30n) problems.push(`linear memory ${bytes} bytes`);
session[Symbol.dispose]?.();

if (problems.length) {
  console.error(`jco limits: ${problems.length} problem(s):\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`jco limits: ${cells.length} cells past what the instance holds, each a memory limit error from the same instance (linear memory ${Number(bytes >> 20n)} MB)`);
