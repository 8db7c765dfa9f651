// Switchboard's web app: plain JavaScript over the public API (cookies set by /auth) and
// the official Socket.IO client, through the gateway that serves it.
"use strict";
const $ = (selector) => document.querySelector(selector);
const state = { me: null, socket: null, chats: [], openChat: null, oldest: null, names: {}, online: {}, typingTimer: null, typingSent: 0 };

async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: {} };
  if (body instanceof FormData) options.body = body;
  else if (body !== undefined) { options.body = JSON.stringify(body); options.headers["Content-Type"] = "application/json"; }
  const response = await fetch(path, options);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error((data && (data.message || (data.error && data.error.message))) || `${response.status}`);
  return data;
}
const fail = (where) => (error) => { $(where).textContent = error.message; };
const el = (tag, { dataset = {}, ...props } = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset);
  for (const child of children) node.append(child);
  return node;
};
const nameOf = (id) => state.names[id] || "someone";

// MARK: signing in
async function start() {
  try {
    state.me = (await api("GET", "/auth/me")).data;
  } catch {
    $("#signed-out").hidden = false;
    $("#signed-in").hidden = true;
    return;
  }
  state.names[state.me.id] = `${state.me.firstName} ${state.me.lastName}`;
  $("#me").textContent = state.names[state.me.id];
  $("#signed-out").hidden = true;
  $("#signed-in").hidden = false;
  connect();
  await Promise.all([refreshInvites(), refreshChats(), searchPeople()]);
  setInterval(refreshChats, 4000);
}
for (const id of ["signup", "login"]) {
  $(`#${id}`).addEventListener("submit", (event) => {
    event.preventDefault();
    const body = Object.fromEntries(new FormData(event.target));
    api("POST", `/auth/${id}`, body).then(start, fail("#auth-error"));
  });
}
$("#logout").addEventListener("click", async () => {
  await api("POST", "/auth/logout").catch(() => {});
  location.reload();
});

// MARK: live
function connect() {
  const socket = io({ path: "/chat/socket.io/" });  // the token cookie signs it in; default transports
  state.socket = socket;
  window.switchboard = { socket };  // for diagnostics (and the browser test)
  socket.on("connect", () => {
    $("#connection").textContent = socket.recovered ? "reconnected (recovered)" : "connected";
    $("#connection").dataset.recovered = String(socket.recovered);
    // A new session has no rooms: the open chat is joined again and its history read.
    if (!socket.recovered && state.openChat) openChat(state.openChat, true);
  });
  socket.on("disconnect", () => { $("#connection").textContent = "offline"; });
  socket.on("receiveMessage", (message) => {
    if (message.chatId === (state.openChat && state.openChat._id)) {
      showMessage(message);
      if (message.senderId !== state.me.id) socket.emit("markRead", { chatId: message.chatId });
    }
  });
  socket.on("messageEdited", (message) => {
    const item = document.querySelector(`[data-id="${message._id}"]`);
    if (item) item.replaceWith(messageItem(message));
  });
  socket.on("messageDeleted", ({ messageId }) => document.querySelector(`[data-id="${messageId}"]`)?.remove());
  socket.on("typing", ({ chatId, userId }) => {
    if (chatId !== state.openChat?._id) return;
    $("#typing").textContent = `${nameOf(userId)} is typing…`;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(() => { $("#typing").textContent = ""; }, 5000);
  });
  socket.on("stopTyping", ({ chatId }) => { if (chatId === state.openChat?._id) $("#typing").textContent = ""; });
  socket.on("presence", ({ userId, online }) => {
    state.online[userId] = online;
    for (const dot of document.querySelectorAll(`#people .dot[data-user="${userId}"]`)) dot.classList.toggle("online", online);
    renderChats();
  });
  socket.on("chatError", ([body] = []) => { $("#error").textContent = body?.error?.message || "error"; });
}

// MARK: people and invites
async function searchPeople() {
  const search = $("#people-search").value.trim();
  const page = await api("GET", `/profile/list?limit=10${search ? `&search=${encodeURIComponent(search)}` : ""}`);
  $("#people").replaceChildren(...page.data.map((p) => {
    state.names[p.userId] = `${p.firstName} ${p.lastName}`;
    return el("li", {}, el("span", { className: `dot${state.online[p.userId] ? " online" : ""}`, dataset: { user: p.userId } }), `${p.firstName} ${p.lastName}`);
  }));
}
$("#people-search").addEventListener("input", () => searchPeople().catch(fail("#error")));

async function refreshInvites() {
  const [received, sent] = await Promise.all([api("GET", "/request/invites/received"), api("GET", "/request/invites/sent")]);
  const line = (invite, other, actions) => {
    state.names[other.id] = `${other.firstName} ${other.lastName}`;
    return el("li", { className: "invite" }, `${other.firstName} ${other.lastName} — ${invite.status}`, ...actions);
  };
  $("#invites-received").replaceChildren(...received.data.map((invite) => line(invite, invite.fromUser, invite.status !== "pending" ? [] : ["accepted", "rejected"].map((status) =>
    el("button", { className: "plain", textContent: status === "accepted" ? "Accept" : "Reject", onclick: () =>
      api("PATCH", `/request/respond/${invite._id}`, { status }).then(() => Promise.all([refreshInvites(), refreshChats()])).catch(fail("#error")) })))));
  const form = el("form", { id: "invite" }, el("input", { name: "toEmail", type: "email", placeholder: "Invite by email", required: true }), el("button", { textContent: "Invite" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    api("POST", "/request/invite/send", { toEmail: form.toEmail.value }).then(refreshInvites).catch(fail("#error"));
  });
  $("#invites-sent").replaceChildren(...sent.data.map((invite) => line(invite, invite.toUser, [])), el("li", {}, form));
  // An accepted invite, either way: a button opens the direct chat.
  for (const [list, key] of [[received.data, "fromUser"], [sent.data, "toUser"]]) {
    for (const invite of list.filter((i) => i.status === "accepted")) {
      const item = [...document.querySelectorAll("#invites-received li, #invites-sent li")].find((li) => li.textContent.startsWith(`${invite[key].firstName} ${invite[key].lastName} — accepted`));
      item?.append(el("button", { className: "plain open-direct", textContent: "Chat", onclick: () =>
        api("POST", "/chat/create-direct", { receiverId: invite[key].id }).then(async (chat) => { await refreshChats(); openChat(state.chats.find((c) => c._id === chat._id) || chat); }).catch(fail("#error")) }));
    }
  }
}

// MARK: chats
async function refreshChats() {
  state.chats = await api("GET", "/chat/my-chats");
  const others = [...new Set(state.chats.flatMap((c) => c.participants))].filter((id) => id !== state.me.id);
  for (const { userId, online } of await api("GET", "/chat/presence")) state.online[userId] = online;
  await Promise.all(others.filter((id) => !state.names[id]).map((id) =>
    api("GET", `/profile/${id}`).then((p) => { const profile = p.data || p; state.names[id] = `${profile.firstName} ${profile.lastName}`; }).catch(() => {})));
  renderChats();
}
function chatName(chat) {
  if (chat.chatType === "group") return chat.name;
  return nameOf(chat.participants.find((id) => id !== state.me.id));
}
function renderChats() {
  $("#chats").replaceChildren(...state.chats.map((chat) => {
    const other = chat.chatType === "direct" ? chat.participants.find((id) => id !== state.me.id) : null;
    const item = el("li", { className: chat._id === state.openChat?._id ? "open" : "", onclick: () => openChat(chat) },
      el("span", { className: `dot${other && state.online[other] ? " online" : ""}`, title: other && state.online[other] ? "online" : "offline" }),
      el("span", { className: "chat-name", textContent: chatName(chat) }));
    if (chat.unreadCount && chat._id !== state.openChat?._id) item.append(el("span", { className: "unread", textContent: String(chat.unreadCount) }));
    item.dataset.chat = chat._id;
    return item;
  }));
}
$("#new-group").addEventListener("click", async () => {
  const name = prompt("Group name");
  if (!name) return;
  const ids = state.chats.filter((c) => c.chatType === "direct").map((c) => c.participants.find((id) => id !== state.me.id));
  api("POST", "/chat/create-group", { name, participants: ids }).then(refreshChats).catch(fail("#error"));
});

async function openChat(chat, again = false) {
  if (!again && state.openChat?._id === chat._id) return;
  state.openChat = chat;
  state.oldest = null;
  delete $("#chat").dataset.joined;
  $("#chat").hidden = false;
  $("#chat-title").textContent = chatName(chat);
  $("#messages").replaceChildren();
  $("#typing").textContent = "";
  await state.socket.emitWithAck("joinChat", { chatId: chat._id });
  await loadOlder();
  $("#chat").dataset.joined = chat._id;  // in the chat's room, its history shown
  chat.unreadCount = 0;
  renderChats();
}
async function loadOlder() {
  const chatId = state.openChat._id;
  const response = await fetch(`/chat/messages/${chatId}?limit=20${state.oldest ? `&before=${state.oldest}` : ""}`, { credentials: "same-origin" });
  const page = await response.json();
  if (!response.ok) throw new Error(page.message || "history unavailable");
  if (page.length) state.oldest = page[0]._id;
  $("#messages").prepend(...page.map(messageItem));
  $("#older").hidden = response.headers.get("X-Has-More") !== "true";
  if (!state.oldest || page.length === $("#messages").children.length) $("#messages").lastElementChild?.scrollIntoView();
}
$("#older").addEventListener("click", () => loadOlder().catch(fail("#error")));

function messageItem(message) {
  const mine = message.senderId === state.me.id;
  const item = el("li", { className: mine ? "mine" : "" });
  item.dataset.id = message._id;
  item.append(el("div", { className: "meta", textContent: `${nameOf(message.senderId)} · ${new Date(message.createdAt).toLocaleTimeString()}${message.editedAt ? " · edited" : ""}` }));
  if (message.text) item.append(el("div", { className: "text", textContent: message.text }));
  if (message.file) {
    const link = el("a", { href: message.file.url, textContent: message.file.name, download: message.file.name });
    item.append(message.file.contentType.startsWith("image/") ? el("div", {}, el("img", { src: message.file.url, alt: message.file.name }), link) : link);
  }
  if (mine) {
    item.append(el("button", { className: "plain edit", textContent: "Edit", onclick: () => {
      const text = prompt("Edit message", message.text);
      if (text) api("PATCH", `/chat/messages/${message.chatId}/${message._id}`, { text }).catch(fail("#error"));
    } }));
    item.append(el("button", { className: "plain delete", textContent: "Delete", onclick: () =>
      api("DELETE", `/chat/messages/${message.chatId}/${message._id}`).catch(fail("#error")) }));
  }
  return item;
}
function showMessage(message) {
  if (document.querySelector(`[data-id="${message._id}"]`)) return;
  $("#messages").append(messageItem(message));
  $("#messages").lastElementChild.scrollIntoView();
  $("#typing").textContent = "";
}

$("#composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const chatId = state.openChat._id;
  const text = $("#text").value.trim();
  const file = $("#file").files[0];
  try {
    if (file) {
      const form = new FormData();
      form.append("chatId", chatId);
      form.append("text", text);
      form.append("file", file);
      await api("POST", "/chat/send-file", form);
      $("#file").value = "";
    } else if (text) {
      const ack = await state.socket.emitWithAck("sendMessage", { chatId, text });
      if (!ack.ok) throw new Error(ack.error.message);
    }
    $("#text").value = "";
    state.socket.emit("stopTyping", { chatId });
    state.typingSent = 0;
  } catch (error) {
    $("#error").textContent = error.message;
  }
});
$("#text").addEventListener("input", () => {
  // Said again every 2 s while typing; the server relays at most that often anyway.
  if (!state.openChat || Date.now() - state.typingSent < 2000) return;
  state.typingSent = Date.now();
  state.socket.emit("typing", { chatId: state.openChat._id });
});

start();
