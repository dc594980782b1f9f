// The WASI imports of a component transpiled by jco in async instantiation mode, made from the
// preview2-shim parts the component uses (cli, clocks, io, random; not the shim's index, which
// also loads its filesystem, sockets and http parts: 25 ms of start-up in Node).
// `wasi:cli/terminal-input` is the shim's `cli.terminalInput`, and so on. Used by lib.mjs (Node)
// and the browser page's worker (the shim's browser build, chosen by the bundler).

/** The shim's parts the component imports. */
export const WASI_PARTS = ['cli', 'clocks', 'io', 'random'];

/** `shims`: { cli, clocks, io, random }, the modules of those parts. */
export function wasiImports(shims) {
  const imports = {};
  for (const ns of WASI_PARTS) {
    for (const [name, value] of Object.entries(shims[ns])) {
      if (name.startsWith('_')) continue;
      imports[`wasi:${ns}/${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`] = value;
    }
  }
  return imports;
}
