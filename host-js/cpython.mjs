// The compute rows against CPython, as host-rs/src/cpython.rs does it: each row's algorithm in
// bench/python/<slug>.py (the row's name in lowercase, other characters as `-`), run by python3
// in the same bench run, start-up excluded (the program prints `median_us result`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const slug = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');

export function pythonVersion() {
  const r = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Each compute row of `rows` beside CPython: { category, oursUs, cpythonUs, ratio, sameResult }. */
export function compare(dir, rows, runs) {
  if (!pythonVersion()) return [];
  const out = [];
  for (const r of rows.filter((x) => x.group === 'compute')) {
    const file = join(dir, `${slug(r.category)}.py`);
    if (!existsSync(file)) continue;
    const p = spawnSync('python3', [file, String(Math.max(1, runs))], { cwd: dir, encoding: 'utf8' });
    const text = (p.stdout || '').trim();
    const space = text.indexOf(' ');
    if (p.status !== 0 || space < 0) continue;
    const cpythonUs = Number(text.slice(0, space));
    out.push({
      category: r.category, oursUs: r.stats.p50, cpythonUs, ratio: r.stats.p50 / cpythonUs,
      sameResult: text.slice(space + 1) === r.result,
    });
  }
  return out;
}

export function table(title, rows) {
  const lines = [title, `${'row'.padEnd(58)} ${'ours p50 us'.padStart(14)} ${'CPython us'.padStart(14)} ${'ratio'.padStart(7)}  same result`];
  for (const c of rows) {
    lines.push(`${c.category.padEnd(58)} ${c.oursUs.toFixed(1).padStart(14)} ${c.cpythonUs.toFixed(1).padStart(14)} ${(c.ratio.toFixed(2) + 'x').padStart(7)}  ${c.sameResult ? 'yes' : 'NO'}`);
  }
  return lines.join('\n') + '\n';
}
