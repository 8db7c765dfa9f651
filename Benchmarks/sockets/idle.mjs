// Idle Socket.IO connections for scripts/bench-sockets: opens COUNT WebSocket clients
// (Engine.IO 4 / Socket.IO 5, the default namespace, answering pings), reports once all
// are connected, waits for a line on stdin, then closes them all and reports again.
// Prints JSON lines: {"connected": n} then {"closed": n}.
// usage: node idle.mjs URL COUNT
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const require = createRequire(import.meta.url);
const { WebSocket } = require(process.env.WS_MODULE || "/usr/share/nodejs/ws");
const url = process.argv[2].replace(/^http/, "ws") + "/socket.io/?EIO=4&transport=websocket";
const count = Number(process.argv[3]);

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => reject(new Error("no Socket.IO CONNECT within 60 s")), 60000);
    ws.on("message", (data) => {
      const text = data.toString();
      if (text === "2") return ws.send("3");
      if (text[0] === "0") return ws.send("40");
      if (text.startsWith("40")) { clearTimeout(timer); resolve(ws); }
    });
    ws.on("error", (error) => { clearTimeout(timer); reject(error); });
  });
}

const sockets = [];
for (let i = 0; i < count; i += 200) {
  const batch = [];
  for (let j = i; j < Math.min(count, i + 200); j++) batch.push(open());
  sockets.push(...(await Promise.all(batch)));
}
console.log(JSON.stringify({ connected: sockets.length }));
const lines = createInterface({ input: process.stdin });
await new Promise((resolve) => lines.once("line", resolve));
await Promise.all(sockets.map((ws) => new Promise((resolve) => { ws.once("close", resolve); ws.close(); })));
console.log(JSON.stringify({ closed: sockets.length }));
process.exit(0);
