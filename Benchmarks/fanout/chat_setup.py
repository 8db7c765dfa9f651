"""Sets up the chat service's side of scripts/bench-fanout through the public API:
CLIENTS users signed up through auth, in groups of GROUP whose first member invites the
others through request (they accept: chat learns the connections by event), and one
group chat per group created through chat. Writes [{"token", "chatId"}] per client.

usage: chat_setup.py AUTH_URL REQUEST_URL CHAT_URL CLIENTS GROUP OUT_JSON
"""
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

auth, request, chat, clients, group, out = *sys.argv[1:4], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
run = uuid.uuid4().hex[:8]


def call(method, url, body=None, token=None, ok=(200, 201)):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers), timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def retry(what, attempt, seconds=60):
    """Events make the other services know users and connections a little later."""
    deadline = time.time() + seconds
    while True:
        status, body = attempt()
        if status in (200, 201):
            return body
        if time.time() > deadline:
            sys.exit(f"{what}: {status} {body}")
        time.sleep(0.1)


def signup(i):
    email = f"fanout-{run}-{i}@example.com"
    body = retry("signup", lambda: call("POST", f"{auth}/signup", {
        "firstName": f"User{i}", "lastName": "Fanout", "emailId": email, "password": "fan-out benchmark 1"}))
    return {"id": body["data"]["id"], "email": email, "token": body["access_token"]}


def connect(admin, member):
    invite = retry("invite", lambda: call("POST", f"{request}/invite/send", {"toEmail": member["email"]}, admin["token"]))
    retry("accept", lambda: call("PATCH", f"{request}/respond/{invite['data']['id']}", {"status": "accepted"}, member["token"]))


def make_group(members):
    admin, others = members[0], members[1:]
    for member in others:
        connect(admin, member)
    body = retry("create-group", lambda: call("POST", f"{chat}/create-group", {
        "name": f"fan-out {admin['email']}", "participants": [m["id"] for m in others]}, admin["token"]))
    # The group comes back bare, as the reference answered it.
    return [{"token": m["token"], "chatId": body["_id"]} for m in members]


started = time.time()
with ThreadPoolExecutor(16) as pool:
    users = list(pool.map(signup, range(clients)))
    print(f"{clients} users signed up in {time.time() - started:.1f} s", file=sys.stderr)
    groups = [users[i:i + group] for i in range(0, clients, group)]
    seats = [seat for members in pool.map(make_group, groups) for seat in members]
print(f"{len(groups)} groups connected and created in {time.time() - started:.1f} s", file=sys.stderr)
with open(out, "w") as f:
    json.dump(seats, f)
