// Fan-out load for scripts/bench-fanout: CLIENTS WebSocket clients speaking Engine.IO 4 /
// Socket.IO 5 directly, in rooms of GROUP; one member of each room sends, RATE messages
// a second in all, for SECONDS; every member (the sender too) receives each message.
// Prints one JSON line: deliveries, their latency percentiles, and the server's CPU time
// per delivery (from /proc/SERVER_PID/stat), measured after a warm-up.
// usage: node load.mjs URL SERVER_PID CLIENTS GROUP RATE SECONDS
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const { WebSocket } = require(process.env.WS_MODULE || "/usr/share/nodejs/ws");
const [url, pid, clients, group, rate, seconds] = [process.argv[2], process.argv[3], ...process.argv.slice(4).map(Number)];
const ticks = () => { const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" "); return Number(f[11]) + Number(f[12]); };

let measuring = false;
const latencies = [];
let received = 0;
const sockets = [];

function open(index) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
    const room = `room-${Math.floor(index / group)}`;
    const timer = setTimeout(() => reject(new Error(`client ${index} did not join in 20 s`)), 20000);
    ws.on("message", (data) => {
      const text = data.toString();
      if (text === "2") return ws.send("3");
      if (text[0] === "0") return ws.send("40");
      if (text.startsWith("40")) return ws.send(`421["join",{"room":"${room}"}]`);
      if (text.startsWith("431")) { clearTimeout(timer); return resolve({ ws, room }); }
      if (text.startsWith('42["message"')) {
        if (!measuring) return;
        const sentAt = JSON.parse(text.slice(2))[1].t;
        received++;
        latencies.push(performance.now() - sentAt);
      }
    });
    ws.on("error", (error) => { clearTimeout(timer); reject(error); });
  });
}

for (let i = 0; i < clients; i += 50) {
  const batch = [];
  for (let j = i; j < Math.min(clients, i + 50); j++) batch.push(open(j));
  sockets.push(...(await Promise.all(batch)));
}
const senders = sockets.filter((_, i) => i % group === 0);
const padding = "x".repeat(100);
let next = 0, sent = 0;
// Every 10 ms, a hundredth of the second's messages, from the senders in turn.
const perTick = rate / 100;
let owed = 0;
const sending = setInterval(() => {
  owed += perTick;
  while (owed >= 1) {
    owed -= 1;
    const { ws, room } = senders[next++ % senders.length];
    ws.send(`42["send",{"room":"${room}","t":${performance.now()},"text":"${padding}"}]`);
    if (measuring) sent++;
  }
}, 10);

await new Promise((r) => setTimeout(r, 2000));  // warm-up
measuring = true;
const startTicks = ticks();
const started = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const cpuSeconds = (ticks() - startTicks) / 100;
const elapsed = (performance.now() - started) / 1000;
measuring = false;
clearInterval(sending);
await new Promise((r) => setTimeout(r, 500));
latencies.sort((a, b) => a - b);
const pct = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] : NaN;
console.log(JSON.stringify({
  clients, group, rate, seconds: elapsed, sent, expected: sent * group, received,
  p50: pct(0.5), p99: pct(0.99), max: latencies[latencies.length - 1],
  serverCpuSeconds: cpuSeconds, cpuMicrosPerDelivery: (cpuSeconds * 1e6) / Math.max(1, received),
}));
for (const { ws } of sockets) ws.terminate();
process.exit(0);
