// Rendering what the component returns, with the same rules as host-rs/src/render.rs.

const titles = { parse: 'Parse error', type: 'Type error', runtime: 'Runtime error', limit: 'Limit exceeded' };

/** A diagnostic with its source line and a caret under the span. */
export function renderDiagnostic(d, source, origin) {
  const sp = d.span;
  const lineText = source.split('\n')[sp.line - 1] ?? '';
  const gutter = String(sp.line);
  const pad = ' '.repeat(gutter.length);
  const width = sp.endLine === sp.line && sp.endColumn > sp.column ? sp.endColumn - sp.column : 1;
  const lead = [...lineText].slice(0, sp.column - 1).map((c) => (c === '\t' ? '\t' : ' ')).join('');
  return `${titles[d.kind]}: ${d.message}\n${pad}--> ${origin}:${sp.line}:${sp.column}\n${pad} |\n${gutter} | ${lineText}\n${pad} | ${lead}${'^'.repeat(width)}\n`;
}

/** Mean and nearest-rank percentiles of samples in microseconds. */
export function stats(samples) {
  if (samples.length === 0) return { samples: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const s = [...samples].sort((a, b) => a - b);
  const rank = (p) => s[Math.min(Math.max(Math.ceil((p / 100) * s.length), 1), s.length) - 1];
  return {
    samples: s.length,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p50: rank(50),
    p95: rank(95),
    p99: rank(99),
    max: s[s.length - 1],
  };
}

const num = (x, w) => x.toFixed(2).padStart(w);

function oneLine(cell, width) {
  const flat = cell.replaceAll('\n', '; ');
  return [...flat].length <= width ? flat : [...flat].slice(0, width - 2).join('') + '..';
}

/** The benchmark table, column for column as host-rs prints it. */
export function table(title, rows) {
  let out = `${title}\n`;
  out += `${'category'.padEnd(30)} ${'cell'.padEnd(40)} ${'target'.padStart(9)} ${'mean'.padStart(10)} ${'p50'.padStart(10)} ${'p95'.padStart(10)} ${'p99'.padStart(10)} ${'max'.padStart(10)}  met\n`;
  let inCompute = false;
  for (const r of rows) {
    if (r.group === 'compute' && !inCompute) {
      inCompute = true;
      out += 'compute cells, outside the 10 ms rule (result shown instead of a target):\n';
    }
    const target = r.targetUs === undefined ? '-' : String(r.targetUs);
    const verdict = r.group === 'compute' ? `= ${r.result}` : r.met ? 'yes' : 'NO';
    out += `${r.category.padEnd(30)} ${oneLine(r.cell, 40).padEnd(40)} ${target.padStart(9)} ${num(r.stats.mean, 10)} ${num(r.stats.p50, 10)} ${num(r.stats.p95, 10)} ${num(r.stats.p99, 10)} ${num(r.stats.max, 10)}  ${verdict}\n`;
  }
  return out;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** `bytes[from..to]` as text, or '' when either end is not on a character boundary (as Rust's
 * `str::get` gives `None` there): offsets from the component count UTF-8 bytes. */
function utf8Slice(bytes, from, to) {
  const boundary = (i) => i === bytes.length || (bytes[i] & 0xc0) !== 0x80;
  return boundary(from) && boundary(to) ? fromUtf8.decode(bytes.subarray(from, to)) : '';
}

/** A cell as a terminal shows it: what it printed, with each `display(...)` output's text
 * (`text/plain`, always in the bundle) where it was made, then the value's display
 * (host-rs/src/render.rs `cell_text`). */
export function cellText(r) {
  const stdout = utf8.encode(r.stdout);
  let out = '';
  let at = 0;
  for (const o of r.outputs ?? []) {
    const to = Math.min(Math.max(o.stdoutOffset, at), stdout.length);
    out += utf8Slice(stdout, at, to);
    at = to;
    const plain = o.bundle.find((m) => m.mime === 'text/plain');
    if (plain) out += `${plain.data}\n`;
  }
  out += utf8Slice(stdout, at, stdout.length);
  if (r.display !== undefined) out += `${r.display}\n`;
  return out;
}
