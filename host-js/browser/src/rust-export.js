// Rust export, loaded by the worker only when the user asks for it: the full component
// (world `notebook`), whose `compiler` interface the kernel the page runs on does not have.
export { compiler } from '../../gen/ruchy_notebook.js';
