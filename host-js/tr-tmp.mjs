import { transpile } from '@bytecodealliance/jco';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
const bytes = await readFile('../target/ruchy_notebook.wasm');
const t0 = performance.now();
const { files, imports, exports } = await transpile(bytes, { name: 'ruchy_notebook', noTypescript: true });
console.log('transpile ms', performance.now() - t0, Object.keys(files), imports, exports);
await mkdir('gen', { recursive: true });
for (const [n, b] of Object.entries(files)) await writeFile('gen/' + n, b);
