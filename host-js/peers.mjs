// The compute rows against the interpreters users compare with, as host-rs/src/peers.rs does
// it: each row's algorithm in bench/python/<slug>.py (CPython) and bench/lua/<slug>.lua
// (Lua 5.4), the row's name in lowercase with other characters as `-`, run in the same bench
// run, start-up excluded (each program prints `median_us result`). A peer missing from the
// machine is left out.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const slug = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');

export const PEERS = [
  { name: 'CPython', program: 'python3', versionArg: '--version', dir: 'bench/python', ext: 'py' },
  { name: 'Lua', program: 'lua5.4', versionArg: '-v', dir: 'bench/lua', ext: 'lua' },
];

/** The peers on this machine: [{ peer, version }]. */
export function found() {
  const out = [];
  for (const peer of PEERS) {
    const r = spawnSync(peer.program, [peer.versionArg], { encoding: 'utf8' });
    const version = r.status === 0 ? (r.stdout || '').split('  ')[0].trim() : '';
    if (version) out.push({ peer, version });
  }
  return out;
}

export const ratio = (oursUs, peerUs) => oursUs / Math.max(peerUs, 1e-9);

/** Each compute row of `rows` beside every found peer: { category, oursUs, peers: [{ us, sameResult } | null] }. */
export function compare(root, peers, rows, runs) {
  if (peers.length === 0) return [];
  const out = [];
  for (const r of rows.filter((x) => x.group === 'compute')) {
    const times = peers.map(({ peer }) => {
      const dir = join(root, peer.dir);
      const file = join(dir, `${slug(r.category)}.${peer.ext}`);
      if (!existsSync(file)) return null;
      const p = spawnSync(peer.program, [file, String(Math.max(1, runs))], { cwd: dir, encoding: 'utf8' });
      const text = (p.stdout || '').trim();
      const space = text.indexOf(' ');
      if (p.status !== 0 || space < 0) return null;
      return { us: Number(text.slice(0, space)), sameResult: text.slice(space + 1) === r.result };
    });
    if (times.some((t) => t)) out.push({ category: r.category, oursUs: r.stats.p50, peers: times });
  }
  return out;
}

export function table(title, peers, rows) {
  let head = `${'row'.padEnd(58)} ${'ours p50 us'.padStart(12)}`;
  for (const { peer } of peers) head += ` ${`${peer.name} us`.padStart(12)} ${'ratio'.padStart(7)}`;
  const lines = [title, `${head}  same result`];
  for (const c of rows) {
    let line = `${c.category.padEnd(58)} ${c.oursUs.toFixed(1).padStart(12)}`;
    let same = true;
    for (const p of c.peers) {
      if (p) {
        same &&= p.sameResult;
        line += ` ${p.us.toFixed(1).padStart(12)} ${(ratio(c.oursUs, p.us).toFixed(2) + 'x').padStart(7)}`;
      } else line += ` ${'-'.padStart(12)} ${'-'.padStart(7)}`;
    }
    lines.push(`${line}  ${same ? 'yes' : 'NO'}`);
  }
  return lines.join('\n') + '\n';
}

/** The comparison as host-rs's bench --json writes it. */
export function json(peers, rows) {
  return peers.map(({ peer, version }, i) => ({
    name: peer.name, version,
    rows: rows.filter((c) => c.peers[i]).map((c) => ({
      category: c.category, ours_p50_us: c.oursUs, peer_us: c.peers[i].us,
      ratio: ratio(c.oursUs, c.peers[i].us), same_result: c.peers[i].sameResult,
    })),
  }));
}
