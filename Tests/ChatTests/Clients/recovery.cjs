// Connection state recovery with the official Socket.IO 4 client, for ChatTests.
//
// usage: node recovery.cjs SIO_CLIENT URL_A URL_B URL_C TOKEN_ADA TOKEN_BOB CHAT_ID OFFLINE_MS COUNT
// Ada's client (the official one, over WebSocket) reaches replica A through a TCP
// proxy, as through a load balancer; Bob's talks to replica B. Ada hears one message, then
// the proxy cuts her connections and refuses new ones for OFFLINE_MS while Bob sends COUNT
// messages; then it sends her to replica C, where her client reconnects by itself.
// Prints her socket ids, `recovered`, and every message text she heard, in order, as JSON.
"use strict";
const net = require("net");
globalThis.WebSocket = require("/usr/share/nodejs/ws");
const [sioClient, urlA, urlB, urlC, tokenAda, tokenBob, chatId, offlineMs, count] = process.argv.slice(2);
const { io } = require(sioClient);

let target = new URL(urlA), offline = false;
const open = new Set();
const proxy = net.createServer((downstream) => {
  if (offline) return downstream.destroy();
  const upstream = net.connect(Number(target.port), target.hostname);
  for (const [a, b] of [[downstream, upstream], [upstream, downstream]]) {
    a.pipe(b);
    a.on("error", () => b.destroy());
    a.on("close", () => b.destroy());
  }
  open.add(downstream);
  downstream.on("close", () => open.delete(downstream));
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = async (check, ms) => { const end = Date.now() + ms; while (!check() && Date.now() < end) await sleep(20); return check(); };
const report = { heard: [], ids: [], recovered: [] };

proxy.listen(0, "127.0.0.1", async () => {
  // WebSocket only: Node.js 20 has no XMLHttpRequest for the browser build's long-polling.
  const ada = io(`http://127.0.0.1:${proxy.address().port}`, { auth: { token: tokenAda }, transports: ["websocket"], reconnectionDelay: 200, reconnectionDelayMax: 500 });
  const bob = io(urlB, { auth: { token: tokenBob }, transports: ["websocket"] });
  ada.on("receiveMessage", (message) => report.heard.push(message.text));
  ada.on("connect", () => { report.ids.push(ada.id); report.recovered.push(ada.recovered); });
  try {
    if (!(await until(() => ada.connected && bob.connected, 10000))) throw new Error("not connected");
    await ada.emitWithAck("joinChat", { chatId });
    await bob.emitWithAck("joinChat", { chatId });
    await bob.emitWithAck("sendMessage", { chatId, text: "before" });
    if (!(await until(() => report.heard.length === 1, 5000))) throw new Error("Ada did not hear the first message");

    offline = true;
    for (const socket of open) socket.destroy();
    if (!(await until(() => !ada.connected, 5000))) throw new Error("Ada did not go offline");
    const sendUntil = Date.now() + Number(offlineMs);
    // Paced under the flood limit (20 a second).
    report.stored = 0;
    for (let i = 1; i <= Number(count); i++) {
      if ((await bob.emitWithAck("sendMessage", { chatId, text: `missed ${i}` })).ok) report.stored++;
      await sleep(60);
    }
    await sleep(Math.max(0, sendUntil - Date.now()));
    target = new URL(urlC);
    offline = false;

    if (!(await until(() => ada.connected, 15000))) throw new Error("Ada did not reconnect");
    await until(() => report.heard.length >= Number(count) + 1, 5000);
    await sleep(1000);  // anything twice would have come by now
  } catch (error) {
    report.error = String(error);
  }
  ada.disconnect();
  bob.disconnect();
  proxy.close();
  console.log(JSON.stringify(report));
  process.exit(0);
});
