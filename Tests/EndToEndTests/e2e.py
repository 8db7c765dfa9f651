"""Switchboard end to end, as a client of the reference system would drive it: through the
gateway URL alone (the local stack, `docker compose up`, or a cluster).

usage: e2e.py GATEWAY_URL [--readable]
Signs users up and in, waits for their profiles (made by events), sends, accepts, rejects
and cancels invites, opens direct and group chats, chats in real time over Socket.IO
(WebSocket and long-polling), sends and fetches a file, logs out, and deletes an account
and checks it leaves profile, requests and chats. Each simulated user speaks from an
address of its own (X-Forwarded-For, which a gateway believes from a trusted proxy such as
127.0.0.1; elsewhere the users share one address and 429s are waited out). Prints one
JSON line: the steps that passed, and the first failure if there was one (exit 1); with
--readable, a line per step instead (scripts/e2e, scripts/compose-e2e).
"""
import json
import os
import sys
import time
import uuid

import requests

# No __pycache__ beside the Swift test targets (SwiftPM would call them unhandled files).
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Client"))
from switchboard_client import User, eventually, expect, wait_heard  # noqa: E402

base = sys.argv[1].rstrip("/")
readable = "--readable" in sys.argv[2:]
run = uuid.uuid4().hex[:8]
steps = []


def step(name):
    def wrap(body):
        started = time.time()
        body()
        steps.append({"step": name, "ms": round((time.time() - started) * 1000)})
    return wrap


ada, bob, cy, dee = (User(base, name, f"198.51.100.{i + 1}", run) for i, name in enumerate(("Ada", "Bob", "Cy", "Dee")))
chats = {}


def main():
    @step("the gateway is healthy and serves its OpenAPI document")
    def _():
        health = requests.get(base + "/health", timeout=10)
        expect(health.status_code == 200 and health.json()["status"] == "ok", f"/health: {health.text[:200]}")
        document = requests.get(base + "/openapi.json", timeout=10).json()
        expect(document["openapi"].startswith("3.1") and "/chat/create-group" in document["paths"], "openapi.json")

    @step("four users sign up; bad input is refused with its error")
    def _():
        for user in (ada, bob, cy, dee):
            body = user.json("POST", "/auth/signup", 201, json={
                "firstName": user.name, "lastName": "Tester", "emailId": user.email, "password": user.password})
            user.id, user.token = body["data"]["id"], body["access_token"]
        again = ada.call("POST", "/auth/signup", 409, json={
            "firstName": "Ada", "lastName": "Again", "emailId": ada.email, "password": ada.password})
        expect(again.json()["error"]["code"], "a duplicate signup names its error")
        ada.call("POST", "/auth/login", 400, json={"emailId": {"$ne": ""}, "password": "x"})

    @step("logging in, /me, and a forged token")
    def _():
        session = ada.json("POST", "/auth/login", json={"emailId": ada.email, "password": ada.password})
        ada.token = session["access_token"]
        expect(ada.json("GET", "/auth/me")["data"]["emailId"] == ada.email, "/auth/me is Ada")
        ada.call("GET", "/profile/getProfile", 401, headers={"Authorization": f"Bearer {ada.token[:-4]}AAAA"})

    @step("profiles are made by events; editing one's own")
    def _():
        for user in (ada, bob, cy, dee):
            eventually(f"{user.name}'s profile", lambda: user.call("GET", "/profile/getProfile").status_code == 200)
        ada.json("PUT", "/profile/patchProfile", json={"about": "Writes the first programs"})
        expect(bob.json("GET", f"/profile/{ada.id}")["data"]["about"] == "Writes the first programs", "Bob sees Ada's profile")
        found = ada.json("GET", "/profile/list?search=bo")["data"]
        expect(any(p["userId"] == bob.id for p in found), "the people picker finds Bob")

    @step("invites: accepted, rejected, cancelled; someone else's invite is not found")
    def _():
        def invite(sender, receiver):
            return sender.json("POST", "/request/invite/send", 201, json={"toEmail": receiver.email})["data"]["id"]
        to_bob = ada.invite(bob)
        bob.json("PATCH", f"/request/respond/{to_bob}", json={"status": "accepted"})
        to_ada = invite(cy, ada)
        dee.call("PATCH", f"/request/respond/{to_ada}", 404, json={"status": "accepted"})
        ada.json("PATCH", f"/request/respond/{to_ada}", json={"status": "accepted"})
        to_dee = invite(ada, dee)
        dee.json("PATCH", f"/request/respond/{to_dee}", json={"status": "rejected"})
        to_dee_again = invite(bob, dee)
        bob.json("DELETE", f"/request/cancel/{to_dee_again}")
        sent = {i["id"]: i["status"] for i in ada.json("GET", "/request/invites/sent")["data"]}
        expect(sent.get(to_bob) == "accepted" and sent.get(to_dee) == "rejected", f"Ada's sent invites: {sent}")
        received = dee.json("GET", "/request/invites/received")
        expect([i["status"] for i in received["data"]] == ["rejected"] and received["count"] == 1,
               f"Dee's received invites, with their status: {received}")
        expect(dee.json("GET", "/request/invites/received?status=pending")["data"] == [], "nothing waits for Dee")

    @step("direct and group chats; strangers cannot open one")
    def _():
        chats["direct"] = ada.direct_chat(bob)
        expect(bob.json("POST", "/chat/create-direct", json={"receiverId": ada.id})["_id"] == chats["direct"], "the same direct chat")
        expect(dee.call("POST", "/chat/create-direct", 403, json={"receiverId": ada.id}).json()["error"]["code"] == "not_connected", "Dee is not connected")
        group = eventually("the Ada-Cy connection in chat", lambda: (lambda r: r.status_code == 201 and r.json())(
            ada.call("POST", "/chat/create-group", json={"name": "Engines", "participants": [bob.id, cy.id]})))
        chats["group"] = group["id"]
        expect(group["admins"] == [ada.id] and set(group["participants"]) == {ada.id, bob.id, cy.id}, f"group: {group}")

    @step("real time over Socket.IO: WebSocket and long-polling, outsiders refused")
    def _():
        a, b, c, d = ada.socket("websocket"), bob.socket("polling"), cy.socket("websocket"), dee.socket("polling")
        try:
            for client, chat in ((a, "direct"), (a, "group"), (b, "direct"), (b, "group"), (c, "group")):
                expect(client.call("joinChat", {"chatId": chats[chat]}, timeout=10)["ok"], f"joining {chat}")
            expect(d.call("joinChat", {"chatId": chats["group"]}, timeout=10)["error"]["code"] == "not_found", "Dee cannot join")
            sent = a.call("sendMessage", {"chatId": chats["direct"], "text": "hello Bob"}, timeout=10)
            expect(sent["ok"] and sent["data"]["senderId"] == ada.id, f"the acknowledgement carries the stored message: {sent}")
            expect(wait_heard(b, "hello Bob"), "Bob (polling) hears Ada")
            expect(b.call("sendMessage", {"chatId": chats["group"], "text": "hello group"}, timeout=10)["ok"], "Bob writes to the group")
            expect(wait_heard(a, "hello group") and wait_heard(c, "hello group"), "Ada and Cy hear Bob")
            expect(d.call("sendMessage", {"chatId": chats["group"], "text": "let me in"}, timeout=10)["error"]["code"] == "not_found", "Dee cannot write")
            time.sleep(0.3)
            expect(not d.heard and not any(m["text"] == "hello Bob" for m in c.heard), "nobody hears a chat they are not in")
        finally:
            for client in (a, b, c, d):
                client.disconnect()

    @step("history for participants only, in order, read marks")
    def _():
        page = bob.json("GET", f"/chat/messages/{chats['direct']}")
        expect([m["text"] for m in page] == ["hello Bob"] and set(page[0]["readBy"]) == {ada.id, bob.id}, f"Bob's history: {page}")
        dee.call("GET", f"/chat/messages/{chats['direct']}", 404)
        mine = ada.json("GET", "/chat/my-chats")
        expect([c["id"] for c in mine][:1] == [chats["group"]] and mine[0]["lastMessagePreview"]["text"] == "hello group", "most recent first")

    @step("a file in the group: stored, served to participants only, type checked")
    def _():
        png = b"\x89PNG\r\n\x1a\n" + bytes(200)
        sent = ada.json("POST", "/chat/send-file", 201, data={"chatId": chats["group"], "text": "a diagram"},
                        files={"file": ("diagram.png", png, "image/png")})
        file_id = sent["file"]["fileId"]
        fetched = bob.call("GET", f"/chat/files/{file_id}", 200)
        expect(fetched.content == png and fetched.headers["Content-Type"].startswith("image/png"), "Bob gets the same bytes")
        dee.call("GET", f"/chat/files/{file_id}", 404)
        odd = ada.json("POST", "/chat/send-file", 201, data={"chatId": chats["group"]}, files={"file": ("x.png", b"MZ not an image", "image/png")})
        served = bob.call("GET", f"/chat/files/{odd['file']['fileId']}", 200)
        expect(served.headers["Content-Type"] == "application/octet-stream" and served.headers["Content-Disposition"].startswith("attachment"),
               "a file that is not what its name says is served as bytes, as an attachment")

    @step("logout ends the session: the old token is refused")
    def _():
        old = bob.token
        bob.json("POST", "/auth/logout")
        bob.call("GET", "/profile/getProfile", 401, headers={"Authorization": f"Bearer {old}"})
        session = bob.json("POST", "/auth/login", json={"emailId": bob.email, "password": bob.password})
        bob.token = session["access_token"]

    @step("deleting an account leaves profile, requests and chats")
    def _():
        pending = cy.json("POST", "/request/invite/send", 201, json={"toEmail": dee.email})["data"]["id"]
        expect(any(i["id"] == pending for i in dee.json("GET", "/request/invites/received")["data"]), "Dee has Cy's invite")
        cy.json("DELETE", "/auth/me")
        cy.call("GET", "/auth/me", 401)
        eventually("Cy's profile gone", lambda: ada.call("GET", f"/profile/{cy.id}").status_code == 404)
        eventually("Cy out of the group", lambda: cy.id not in next(
            c for c in ada.json("GET", "/chat/my-chats") if c["id"] == chats["group"])["participants"])
        eventually("Cy's invite to Dee gone", lambda: all(i["id"] != pending for i in dee.json("GET", "/request/invites/received")["data"]))
        eventually("Cy's connection gone", lambda: ada.call("POST", "/chat/create-direct", json={"receiverId": cy.id}).status_code == 403)


def report(failed=None):
    if not readable:
        print(json.dumps({"passed": steps} | ({"failed": failed} if failed else {})))
        return
    for step in steps:
        print("  ok  %6d ms  %s" % (step["ms"], step["step"]))
    print("  FAILED  " + failed if failed else "%d steps passed against %s" % (len(steps), base))


try:
    main()
    report()
except Exception as error:  # the report says what failed, whatever it was
    report(f"{type(error).__name__}: {error}")
    sys.exit(1)
