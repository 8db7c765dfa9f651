// Runs one of the official Socket.IO protocol test suites (a test-suite.js written for
// mocha + chai) with plain Node.js: just enough of describe/it and chai's expect for
// those files, so no npm registry is needed. Usage: node run-suite.mjs DIR/test-suite.js
import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";
import path from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
globalThis.WebSocket = require(process.env.WS_MODULE || "/usr/share/nodejs/ws").WebSocket;

class AssertionError extends Error {}
const show = (v) => (v instanceof ArrayBuffer ? `ArrayBuffer[${new Uint8Array(v)}]` : JSON.stringify(v));
const normal = (v) => (v instanceof ArrayBuffer ? Array.from(new Uint8Array(v)) : Buffer.isBuffer(v) ? { buffer: Array.from(v) } : v);

function expect(actual) {
  const check = (ok, what) => { if (!ok) throw new AssertionError(`expected ${show(actual)} ${what}`); };
  const chain = {
    eql: (expected) => check(isDeepStrictEqual(normal(actual), normal(expected)) && (actual instanceof ArrayBuffer) === (expected instanceof ArrayBuffer), `to deeply equal ${show(expected)}`),
    startsWith: (prefix) => check(typeof actual === "string" && actual.startsWith(prefix), `to start with ${show(prefix)}`),
    a: (type) => check(typeof actual === type, `to be a ${type}`),
    oneOf: (list) => check(list.includes(actual), `to be one of ${show(list)}`),
    keys: (...keys) => check(actual && typeof actual === "object" && isDeepStrictEqual(Object.keys(actual).sort(), keys.flat().sort()), `to have exactly the keys ${show(keys.flat())}`),
  };
  chain.to = chain; chain.be = chain; chain.have = chain; chain.all = chain;
  return chain;
}
globalThis.chai = { expect };

// describe/it: collected first, then run in order, each test with the timeout of its block.
const root = { name: "", children: [], timeout: 2000 };
let current = root;
globalThis.describe = (name, body) => {
  const block = { name, children: [], timeout: current.timeout, parent: current };
  current.children.push(block);
  const outer = current;
  current = block;
  body.call({ timeout: (ms) => { block.timeout = ms; } });
  current = outer;
};
globalThis.it = (name, body) => current.children.push({ name, body, block: current });

const file = path.resolve(process.argv[2]);
// The suite imports ./node-imports.js for npm modules; the globals above stand in for them.
await import(pathToFileURL(file).href);

let passed = 0, failed = 0;
async function run(node, prefix) {
  for (const child of node.children) {
    const title = prefix ? `${prefix} > ${child.name}` : child.name;
    if (child.children) { await run(child, title); continue; }
    let timer;
    try {
      await Promise.race([
        Promise.resolve().then(() => child.body.call({})),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${child.block.timeout} ms`)), child.block.timeout); }),
      ]);
      passed++;
      console.log(`  ok   ${title}`);
    } catch (error) {
      failed++;
      console.log(`  FAIL ${title}: ${error.message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
await run(root, "");
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
