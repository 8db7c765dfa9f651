"""A client of the Node.js reference system (github SamarthM0419/Real_Time_Chatting_Backend),
written from its source, run against Switchboard's gateway unchanged.

usage: reference_client.py GATEWAY_URL
It is a browser: cookies only (the `token` cookie its login sets; no Authorization header,
no /auth/refresh), the request bodies its routes read, and it reads back exactly the fields
and statuses its source writes: auth's routes (authService/src/routes/auth.js), profile's
(profileService/src/routes/profile.js), request's (requestService/src/routes/request.js),
chat's (chatService/src/router/chatRoutes.js) and the socket events of chatSocket.js as
its test clients use them (testSocket.js, testGroupSocket.js: joinChat, sendMessage,
receiveMessage, error), over WebSocket and long-polling. Where Switchboard differs on
purpose (README, "Differences from the reference system") the check says so and asserts
Switchboard's documented answer. Prints one JSON line: {"passed": [...], "failed": [...]}.
"""
import base64
import json
import sys
import threading
import time
import uuid

import requests
import socketio

base = sys.argv[1].rstrip("/")
run = uuid.uuid4().hex[:8]
passed, failed = [], []


def check(name, condition, detail=""):
    (passed if condition else failed).append(name if condition else f"{name}: {detail}"[:600])
    return condition


class Browser:
    """One person's browser: a cookie jar and an address of its own."""

    def __init__(self, name, address):
        self.name = name
        self.email = f"{name.lower()}-{run}@example.com"
        self.password = "Str0ng!Passw0rd"
        self.session = requests.Session()
        self.session.headers["X-Forwarded-For"] = address
        self.address = address
        self.id = None

    def call(self, method, path, **kwargs):
        kwargs.setdefault("timeout", 20)
        for _ in range(10):
            response = self.session.request(method, base + path, **kwargs)
            # The gateway's per-address limit is waited out; a longer refusal (auth's login
            # throttle) is the answer.
            if response.status_code != 429 or float(response.headers.get("Retry-After", "1")) > 2:
                return response
            time.sleep(float(response.headers.get("Retry-After", "1")))
        return response

    def socket(self, transport):
        # The browser's own HTTP session: every long-poll carries its cookies and address, as a
        # browser's do (python's engine.io client sends `headers` with the handshake only).
        client = socketio.Client(reconnection=False, http_session=self.session, logger=bool(sys.argv[2:]), engineio_logger=bool(sys.argv[2:]))
        client.heard, client.errors = [], []
        client.on("receiveMessage", lambda message: client.heard.append(message))
        client.on("error", lambda message: client.errors.append(message))
        # As testSocket.js does: the token cookie in the handshake's headers.
        client.connect(base, socketio_path="chat/socket.io", transports=[transport], wait_timeout=10,
                       headers={"Cookie": f"token={self.session.cookies.get('token')}", "X-Forwarded-For": self.address})
        return client


def wait_for(condition, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def json_of(response):
    try:
        return response.json()
    except ValueError:
        return {}


# Addresses of this run's own (a trusted proxy's X-Forwarded-For): runs never share a throttle.
net = int(run[:4], 16)
ada, bob, cy, dee = (Browser(name, f"10.{net >> 8}.{net & 255}.{20 + i}") for i, name in enumerate(("Ada", "Bob", "Cy", "Dee")))
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def auth():
    for user in (ada, bob, cy, dee):
        response = user.call("POST", "/auth/signup", json={"firstName": user.name, "lastName": "Lovelace", "emailId": user.email, "password": user.password})
        body = json_of(response)
        data = body.get("data", {})
        check(f"signup {user.name}: 201, message, data._id/firstName/lastName/emailId",
              response.status_code == 201 and body.get("message") and data.get("_id") and data.get("emailId") == user.email
              and data.get("firstName") == user.name and data.get("lastName") == "Lovelace", response.text)
        check(f"signup {user.name}: the token cookie is set", user.session.cookies.get("token") is not None, str(user.session.cookies.keys()))
        user.id = data.get("_id")
    again = ada.call("POST", "/auth/signup", json={"firstName": "Ada", "lastName": "L", "emailId": ada.email, "password": ada.password})
    check("signup with a taken email: 409 (the reference: 404) — a listed difference", again.status_code == 409 and json_of(again).get("message"), again.text)
    weak = ada.call("POST", "/auth/signup", json={"firstName": "Weak", "lastName": "Pw", "emailId": f"weak-{run}@example.com", "password": "short"})
    check("signup with a weak password: 400 with message", weak.status_code == 400 and json_of(weak).get("message"), weak.text)

    login = ada.call("POST", "/auth/login", json={"emailId": ada.email, "password": ada.password})
    data = json_of(login).get("data", {})
    check("login: 200, data.id, data.emailId, data.token, message", login.status_code == 200 and data.get("id") == ada.id
          and data.get("emailId") == ada.email and isinstance(data.get("token"), str) and json_of(login).get("message"), login.text)
    check("login: the token cookie is the token in the body", ada.session.cookies.get("token") == data.get("token"))
    wrong = Browser("Ada", ada.address)
    wrong.email = ada.email
    bad = wrong.call("POST", "/auth/login", json={"emailId": ada.email, "password": "Wr0ng!Passw0rd"})
    check("login with a wrong password: 401", bad.status_code == 401, bad.text)

    found = bob.call("GET", "/auth/getUserByEmail", params={"emailId": ada.email})
    check("getUserByEmail: 200 and a top-level userId", found.status_code == 200 and json_of(found).get("userId") == ada.id, found.text)
    missing = bob.call("GET", "/auth/getUserByEmail", params={"emailId": f"nobody-{run}@example.com"})
    check("getUserByEmail of nobody: 404", missing.status_code == 404, missing.text)
    check("getUserByEmail without emailId: 400", bob.call("GET", "/auth/getUserByEmail").status_code == 400)

    same = dee.call("PATCH", "/auth/changePassword", json={"oldPassword": dee.password, "newPassword": dee.password})
    check("changePassword to the same password: 400", same.status_code == 400, same.text)
    wrong_old = dee.call("PATCH", "/auth/changePassword", json={"oldPassword": "N0t!ThePassword", "newPassword": "N3w!Passw0rd"})
    check("changePassword with a wrong old password: 401", wrong_old.status_code == 401, wrong_old.text)
    changed = dee.call("PATCH", "/auth/changePassword", json={"oldPassword": dee.password, "newPassword": "N3w!Passw0rd"})
    check("changePassword: 200 and message", changed.status_code == 200 and json_of(changed).get("message"), changed.text)
    dee.password = "N3w!Passw0rd"


def profile():
    # Right after signup, perhaps before the account's event reached profile: the reference upserts.
    picture = "data:image/png;base64," + base64.b64encode(PNG).decode()
    saved = cy.call("PUT", "/profile/patchProfile", json={"firstName": "Cy", "lastName": "Lovelace", "about": "a" * 750,
                                                            "profilePic": picture, "gender": "Male", "age": "29"})
    data = json_of(saved).get("data", {})
    check("patchProfile with all six fields (age as a form's string, profilePic as a data URL): 200, message, data",
          saved.status_code == 200 and json_of(saved).get("message") and data.get("age") == 29 and len(data.get("about", "")) == 750, saved.text[:300])
    check("patchProfile: data.profilePic is a URL the browser can load", isinstance(data.get("profilePic"), str)
          and cy.call("GET", data["profilePic"]).content == PNG, str(data.get("profilePic")))
    linked = ada.call("PUT", "/profile/patchProfile", json={"firstName": "Ada", "lastName": "Lovelace", "about": "Notes", "age": 36,
                                                             "gender": "female", "profilePic": "https://images.example.com/ada.png"})
    check("patchProfile with an http(s) image link: kept as the picture", linked.status_code == 200
          and json_of(linked).get("data", {}).get("profilePic") == "https://images.example.com/ada.png", linked.text[:300])
    refused = ada.call("PUT", "/profile/patchProfile", json={"profilePic": "not a picture"})
    check("patchProfile with a profilePic that is neither: 400 with message", refused.status_code == 400 and json_of(refused).get("message"), refused.text)
    own = ada.call("GET", "/profile/getProfile")
    check("getProfile: 200, data with firstName/about/profilePic", own.status_code == 200
          and json_of(own).get("data", {}).get("about") == "Notes" and json_of(own)["data"].get("userId") == ada.id, own.text[:300])
    theirs = bob.call("GET", f"/profile/profile/{ada.id}")
    check("GET /profile/profile/:userId (the reference's path behind NGINX): 200 and data", theirs.status_code == 200
          and json_of(theirs).get("data", {}).get("userId") == ada.id, theirs.text[:300])
    nobody = bob.call("GET", f"/profile/profile/{'0' * 24}")
    check("a profile that does not exist: 404", nobody.status_code == 404, nobody.text)


invites = {}


def request():
    def send(sender, receiver):
        for _ in range(100):  # the request service learns of new users from an event, a moment after signup
            response = sender.call("POST", "/request/invite/send", json={"toEmail": receiver.email})
            if response.status_code != 404:
                return response
            time.sleep(0.1)
        return response

    for sender, receiver in ((ada, bob), (ada, cy), (bob, cy), (dee, ada)):
        response = send(sender, receiver)
        data = json_of(response).get("data", {})
        check(f"invite/send {sender.name}→{receiver.name}: 201, message, data._id/fromUserId/toUserId/status", response.status_code == 201
              and json_of(response).get("message") and data.get("_id") and data.get("fromUserId") == sender.id and data.get("toUserId") == receiver.id
              and data.get("status") == "pending", response.text[:300])
        invites[(sender.name, receiver.name)] = data.get("_id")
    again = ada.call("POST", "/request/invite/send", json={"toEmail": bob.email})
    check("a second invite to the same user: refused (409; the reference: 400) — a listed difference", again.status_code == 409, again.text)
    self_invite = ada.call("POST", "/request/invite/send", json={"toEmail": ada.email})
    check("an invite to yourself: 400", self_invite.status_code == 400, self_invite.text)
    check("invite/send without toEmail: 400", ada.call("POST", "/request/invite/send", json={}).status_code == 400)

    received = bob.call("GET", "/request/invites/received")
    body = json_of(received)
    check("invites/received: 200, data, count", received.status_code == 200 and body.get("count") == len(body.get("data", [])) == 1
          and body["data"][0].get("fromUserId") == ada.id, received.text[:300])
    sent = ada.call("GET", "/request/invites/sent")
    check("invites/sent: 200, data, count", sent.status_code == 200 and json_of(sent).get("count") == 2, sent.text[:300])

    for (sender, receiver), user in (((ada.name, bob.name), bob), ((ada.name, cy.name), cy), ((bob.name, cy.name), cy)):
        answered = user.call("PATCH", f"/request/respond/{invites[(sender, receiver)]}", json={"status": "accepted"})
        check(f"respond accepted {sender}→{receiver}: 200, message, data.status", answered.status_code == 200
              and json_of(answered).get("data", {}).get("status") == "accepted" and json_of(answered).get("message"), answered.text[:300])
    bad = ada.call("PATCH", f"/request/respond/{invites[(dee.name, ada.name)]}", json={"status": "maybe"})
    check("respond with another status: 400", bad.status_code == 400, bad.text)
    check("respond without status: 400", ada.call("PATCH", f"/request/respond/{invites[(dee.name, ada.name)]}", json={}).status_code == 400)
    stranger = bob.call("DELETE", f"/request/cancel/{invites[(dee.name, ada.name)]}")
    check("cancel of someone else's invite: refused (404; the reference: 403) — a listed difference", stranger.status_code == 404, stranger.text)
    cancelled = dee.call("DELETE", f"/request/cancel/{invites[(dee.name, ada.name)]}")
    check("cancel: 200 and message", cancelled.status_code == 200 and json_of(cancelled).get("message"), cancelled.text)
    after = bob.call("GET", "/request/invites/received")
    check("invites/received lists answered invites too, with their status, as the reference's source does",
          [i.get("status") for i in json_of(after).get("data", [])] == ["accepted"], after.text[:300])


chats = {}


def chat_rest():
    def direct():
        for _ in range(100):  # chat learns of the connection from request.accepted, a moment later
            response = ada.call("POST", "/chat/create-direct", json={"receiverId": bob.id})
            if response.status_code != 403:
                return response
            time.sleep(0.1)
        return response

    created = direct()
    body = json_of(created)
    check("create-direct: 201 and the chat itself (_id, chatType, participants)", created.status_code == 201 and body.get("_id")
          and body.get("chatType") == "direct" and set(body.get("participants", [])) == {ada.id, bob.id}, created.text[:300])
    chats["direct"] = body.get("_id")
    existing = bob.call("POST", "/chat/create-direct", json={"receiverId": ada.id})
    check("create-direct again: 200 and the same chat", existing.status_code == 200 and json_of(existing).get("_id") == chats["direct"], existing.text[:300])
    check("create-direct without receiverId: 400", ada.call("POST", "/chat/create-direct", json={}).status_code == 400)
    check("create-direct with yourself: 400", ada.call("POST", "/chat/create-direct", json={"receiverId": ada.id}).status_code == 400)
    stranger = dee.call("POST", "/chat/create-direct", json={"receiverId": cy.id})
    check("create-direct with someone not connected: 403", stranger.status_code == 403, stranger.text)

    def group():
        for _ in range(100):
            response = ada.call("POST", "/chat/create-group", json={"name": "Engines", "participants": [bob.id, cy.id]})
            if response.status_code != 403:
                return response
            time.sleep(0.1)
        return response

    made = group()
    body = json_of(made)
    check("create-group: 201 and the group itself (_id, name, participants, admins)", made.status_code == 201 and body.get("name") == "Engines"
          and body.get("admins") == [ada.id] and set(body.get("participants", [])) == {ada.id, bob.id, cy.id}, made.text[:300])
    chats["group"] = body.get("_id")
    check("create-group with one other: 400", ada.call("POST", "/chat/create-group", json={"name": "Two", "participants": [bob.id]}).status_code == 400)
    check("create-group without participants: 400", ada.call("POST", "/chat/create-group", json={"name": "None"}).status_code == 400)

    removed = ada.call("PUT", "/chat/remove-from-group", json={"chatId": chats["group"], "userIdToRemove": cy.id})
    check("remove-from-group (userIdToRemove): 200 and the group itself", removed.status_code == 200
          and cy.id not in json_of(removed).get("participants", [ada.id, cy.id]), removed.text[:300])
    added = ada.call("PUT", "/chat/add-to-group", json={"chatId": chats["group"], "userIdToAdd": cy.id})
    check("add-to-group (userIdToAdd): 200 and the group itself", added.status_code == 200 and cy.id in json_of(added).get("participants", []), added.text[:300])
    twice = ada.call("PUT", "/chat/add-to-group", json={"chatId": chats["group"], "userIdToAdd": cy.id})
    check("add-to-group of a member: 400", twice.status_code == 400, twice.text)
    not_admin = bob.call("PUT", "/chat/add-to-group", json={"chatId": chats["group"], "userIdToAdd": ada.id})
    check("add-to-group by a member who is not an admin: 403", not_admin.status_code == 403, not_admin.text)
    self_remove = ada.call("PUT", "/chat/remove-from-group", json={"chatId": chats["group"], "userIdToRemove": ada.id})
    check("remove-from-group of yourself: 400 (use leave-group)", self_remove.status_code == 400, self_remove.text)
    check("add-to-group without userIdToAdd: 400", ada.call("PUT", "/chat/add-to-group", json={"chatId": chats["group"]}).status_code == 400)


def sockets(transport):
    """testSocket.js and testGroupSocket.js: join, send, every socket in the room hears it, the sender's too."""
    sockets = [user.socket(transport) for user in (ada, bob, cy)]
    outsider = dee.socket(transport)
    try:
        for client in sockets:
            client.emit("joinChat", {"chatId": chats["group"]})
        outsider.emit("joinChat", {"chatId": chats["group"]})
        check(f"{transport}: a refused joinChat emits error \"Chat not found\"", wait_for(lambda: outsider.errors == ["Chat not found"]), str(outsider.errors))
        time.sleep(0.3)  # the joins are fire-and-forget, as the reference's client sends them
        text = f"Hey everyone over {transport}!"
        sockets[0].emit("sendMessage", {"chatId": chats["group"], "text": text})
        heard = wait_for(lambda: all(any(m.get("text") == text for m in c.heard) for c in sockets))
        check(f"{transport}: receiveMessage reaches every socket in the room, the sender's included", heard, str([c.heard for c in sockets])[:300])
        message = next((m for m in sockets[1].heard if m.get("text") == text), {})
        check(f"{transport}: receiveMessage carries _id, chatId, senderId, text, readBy, createdAt", message.get("_id") and message.get("chatId") == chats["group"]
              and message.get("senderId") == ada.id and isinstance(message.get("readBy"), list) and message.get("createdAt"), str(message))
        time.sleep(0.2)
        check(f"{transport}: nothing reaches a socket outside the room", not outsider.heard, str(outsider.heard))
        # Replies, as in testGroupSocket.js.
        for client, reply in ((sockets[1], f"Thanks ({transport})"), (sockets[2], f"Is this working? ({transport})")):
            client.emit("sendMessage", {"chatId": chats["group"], "text": reply})
        check(f"{transport}: the replies reach the whole room", wait_for(lambda: all(len([m for m in c.heard if transport in m.get("text", "")]) >= 3 for c in sockets)),
              str([len(c.heard) for c in sockets]))
    finally:
        for client in sockets + [outsider]:
            client.disconnect()


def refused_socket():
    nobody = socketio.Client(reconnection=False)
    errors = []
    nobody.on("connect_error", lambda data: errors.append(data))
    try:
        nobody.connect(base, socketio_path="chat/socket.io", transports=["websocket"], wait_timeout=10, headers={"X-Forwarded-For": f"10.{net >> 8}.{net & 255}.99"})
        check("a handshake without cookies is refused", False, "connected")
    except socketio.exceptions.ConnectionError:
        check("a handshake without cookies is refused with the reference's message", wait_for(lambda: errors) and (errors[0] or {}).get("message") == "Unauthorized - No cookies", str(errors))


def files_and_history():
    listener = bob.socket("websocket")
    try:
        listener.emit("joinChat", {"chatId": chats["group"]})
        time.sleep(0.3)
        sent = ada.call("POST", "/chat/send-file", data={"chatId": chats["group"], "text": "the diagram"}, files={"file": ("diagram.png", PNG, "image/png")})
        body = json_of(sent)
        file = body.get("file") or {}
        check("send-file: 201 and the message itself, file.name/mimeType/size", sent.status_code == 201 and body.get("text") == "the diagram"
              and file.get("name") == "diagram.png" and file.get("mimeType") == "image/png" and file.get("size") == len(PNG), sent.text[:300])
        check("send-file: the file reaches the room as receiveMessage", wait_for(lambda: any((m.get("file") or {}).get("name") == "diagram.png" for m in listener.heard)))
        fetched = bob.call("GET", file.get("url", "/chat/files/none"))
        check("the file's bytes are at file.url (not in the JSON: a listed difference)", fetched.status_code == 200 and fetched.content == PNG, str(fetched.status_code))
        notes = ada.call("POST", "/chat/send-file", data={"chatId": chats["group"]}, files={"file": ("notes.txt", b"plain notes", "text/plain")})
        check("send-file takes any file type, as the reference did", notes.status_code == 201 and json_of(notes).get("file", {}).get("mimeType") == "text/plain", notes.text[:300])
        without = ada.call("POST", "/chat/send-file", data={"chatId": chats["group"]}, files={"text": (None, "no file")})
        check("send-file without a file: 400", without.status_code == 400, f"{without.status_code} {without.text[:200]}")
    finally:
        listener.disconnect()

    mine = ada.call("GET", "/chat/my-chats")
    listed = json_of(mine) if isinstance(json_of(mine), list) else []
    check("my-chats: 200 and a bare array of chats, the most recently active first", mine.status_code == 200 and [c.get("_id") for c in listed][:1] == [chats["group"]], mine.text[:300])
    group = next((c for c in listed if c.get("_id") == chats["group"]), {})
    history = ada.call("GET", f"/chat/messages/{chats['group']}")
    messages = json_of(history) if isinstance(json_of(history), list) else []
    texts = [m.get("text") for m in messages]
    check("messages: 200 and a bare array, oldest first", history.status_code == 200 and texts[:1] == ["Hey everyone over websocket!"] and texts[-1] == "", texts[:8])
    check("my-chats: lastMessage is the last message's id, as the reference's model kept it", group.get("lastMessage") == (messages[-1]["_id"] if messages else None),
          f"{group.get('lastMessage')} vs {messages[-1]['_id'] if messages else None}")
    check("messages of a chat you are not in: refused", dee.call("GET", f"/chat/messages/{chats['group']}").status_code in (403, 404))

    left = cy.call("PUT", "/chat/leave-group", json={"chatId": chats["group"]})
    check("leave-group: 200, message and chat", left.status_code == 200 and json_of(left).get("message") and cy.id not in json_of(left).get("chat", {}).get("participants", [cy.id]), left.text[:300])


def logout():
    out = bob.call("POST", "/auth/logout")
    check("logout: 200 and message", out.status_code == 200 and json_of(out).get("message"), out.text)
    check("logout clears the token cookie", bob.session.cookies.get("token") is None, str(bob.session.cookies.keys()))
    check("after logout the chat routes refuse the browser: 401", bob.call("GET", "/chat/my-chats").status_code == 401)


try:
    for part in (auth, profile, request, chat_rest, lambda: sockets("websocket"), lambda: sockets("polling"), refused_socket, files_and_history, logout):
        part()
except Exception as error:  # a crash is a failure with its reason, not a missing report
    import traceback
    traceback.print_exc()
    failed.append(f"crashed: {type(error).__name__}: {error}"[:600])
print(json.dumps({"passed": passed, "failed": failed}))
sys.exit(1 if failed else 0)
