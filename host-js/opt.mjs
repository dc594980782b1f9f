// The component build's last step: binaryen's wasm-opt (inside jco) over each core module of
// the component, component-aware. Called by `host-rs build-component`:
//
//   node host-js/opt.mjs IN.wasm OUT.wasm
//
// The level, -O1, is chosen by measurement (ARCHITECTURE.md, "Builds"): it takes 11% off the
// size and keeps fib(25) within 5%; -O3 and -Oz take 14% off but make fib(25) 17-20% slower.
import { readFile, writeFile } from 'node:fs/promises';
import { ensureDeps } from './lib.mjs';

/** wasm-opt's flags: the level, and the WebAssembly features rustc's wasm32-wasip2 code uses
 * (binaryen refuses the module without them). */
export const OPT_ARGS = [
  '-O1',
  '--enable-bulk-memory', '--enable-sign-ext', '--enable-nontrapping-float-to-int',
  '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue',
];

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node host-js/opt.mjs IN.wasm OUT.wasm');
  process.exit(2);
}
ensureDeps();
const { opt } = await import('@bytecodealliance/jco');
const { component } = await opt(await readFile(input), { quiet: true, optArgs: OPT_ARGS });
await writeFile(output, component);
