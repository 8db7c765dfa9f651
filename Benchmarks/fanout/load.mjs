// Fan-out load for scripts/bench-fanout: CLIENTS WebSocket clients speaking Engine.IO 4 /
// Socket.IO 5 directly, in rooms of GROUP; one member of each room sends, RATE messages
// a second in all, for SECONDS; every member receives each message once (the sender as
// its acknowledgement where the server acknowledges instead of echoing).
// Two dialects: the storage-free fan-out servers (`join {room}`, `send` → `message` to
// all), or, given SEATS_JSON ([{token, chatId}] per client, from chat_setup.py), the chat
// service (handshake auth token, `joinChat {chatId}`, `sendMessage {chatId, text}` → an
// acknowledgement with the stored message to the sender, `receiveMessage` to the others).
// Prints one JSON line: deliveries, latency percentiles, and CPU time per delivery of
// the server (the first PID) and of the other PIDS together (its databases), from
// /proc/PID/stat, measured after a warm-up.
// usage: node load.mjs URL PIDS CLIENTS GROUP RATE SECONDS [SEATS_JSON]
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const { WebSocket } = require(process.env.WS_MODULE || "/usr/share/nodejs/ws");
const [url, pidList] = process.argv.slice(2, 4);
const [clients, group, rate, seconds] = process.argv.slice(4, 8).map(Number);
const seats = process.argv[8] ? JSON.parse(readFileSync(process.argv[8], "utf8")) : null;
const pids = pidList.split(",");
const ticks = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" "); return Number(f[11]) + Number(f[12]); };

let measuring = false;
const latencies = [];
let received = 0, errors = 0;
const sockets = [];
const padding = "x".repeat(100);

// Messages carry their send time: "<performance.now()> xxx…".
function record(sentAt) {
  if (!measuring) return;
  received++;
  latencies.push(performance.now() - sentAt);
}

function open(index) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
    const seat = seats?.[index];
    const room = seat ? seat.chatId : `room-${Math.floor(index / group)}`;
    const timer = setTimeout(() => reject(new Error(`client ${index} did not join in 60 s`)), 60000);
    const client = { ws, room, acks: 1 };
    ws.on("message", (data) => {
      const text = data.toString();
      if (text === "2") return ws.send("3");
      if (text[0] === "0") return ws.send(seat ? `40${JSON.stringify({ token: seat.token })}` : "40");
      if (text.startsWith("44")) { clearTimeout(timer); return reject(new Error(`client ${index} refused: ${text}`)); }
      if (text.startsWith("40")) {
        return ws.send(seat ? `421["joinChat",{"chatId":"${room}"}]` : `421["join",{"room":"${room}"}]`);
      }
      const packet = /^4([23])(\d*)(.*)$/s.exec(text);
      if (!packet) return;
      const [, type, ackId, json] = packet;
      if (type === "3" && ackId === "1") { clearTimeout(timer); return resolve(client); }
      const body = JSON.parse(json);
      if (type === "3") {  // a sendMessage acknowledgement: the stored message
        if (body[0]?.ok) record(parseFloat(body[0].data.text)); else errors++;
      } else if (body[0] === "message" || body[0] === "receiveMessage") {
        record(seat ? parseFloat(body[1].text) : body[1].t);
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
// What connecting costs the server (the chat's presence and read markers for every user)
// is done before the fan-out is measured: SETTLE_SECONDS (default 5) of quiet first.
await new Promise((r) => setTimeout(r, Number(process.env.SETTLE_SECONDS ?? 5) * 1000));
const senders = sockets.filter((_, i) => i % group === 0);
let next = 0, sent = 0;
// Every 10 ms, a hundredth of the second's messages, from the senders in turn.
const perTick = rate / 100;
let owed = 0;
const sending = setInterval(() => {
  owed += perTick;
  while (owed >= 1) {
    owed -= 1;
    const client = senders[next++ % senders.length];
    const now = performance.now();
    if (seats) {
      client.ws.send(`42${++client.acks}["sendMessage",{"chatId":"${client.room}","text":"${now} ${padding}"}]`);
    } else {
      client.ws.send(`42["send",{"room":"${client.room}","t":${now},"text":"${padding}"}]`);
    }
    if (measuring) sent++;
  }
}, 10);

await new Promise((r) => setTimeout(r, 2000));  // warm-up
measuring = true;
const startTicks = pids.map(ticks);
const started = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const cpuSeconds = pids.map((pid, i) => (ticks(pid) - startTicks[i]) / 100);
const elapsed = (performance.now() - started) / 1000;
clearInterval(sending);
await new Promise((r) => setTimeout(r, 1000));  // the last messages' deliveries
measuring = false;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] : NaN;
const perDelivery = (cpu) => (cpu * 1e6) / Math.max(1, received);
const helpersCpu = cpuSeconds.slice(1).reduce((a, b) => a + b, 0);
console.log(JSON.stringify({
  clients, group, rate, seconds: elapsed, sent, expected: sent * group, received, errors,
  p50: pct(0.5), p99: pct(0.99), max: latencies[latencies.length - 1],
  serverCpuSeconds: cpuSeconds[0], cpuMicrosPerDelivery: perDelivery(cpuSeconds[0]),
  helpersCpuSeconds: helpersCpu, helpersCpuMicrosPerDelivery: perDelivery(helpersCpu),
}));
for (const { ws } of sockets) ws.terminate();
process.exit(0);
