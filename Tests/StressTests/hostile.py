"""Hostile input through the gateway: generated requests for every operation in openapi.json
(wrong types, missing and extra fields, operator-looking keys, huge and odd strings, random
ids) answered without a 5xx and as documented; NoSQL operators in every body field and query
parameter; one user's ids used by another; oversized and malformed uploads; malformed
Socket.IO packets; forged and expired tokens."""
import base64
import json
import os
import random
import re
import subprocess
import tempfile
import sys
import time

import jsonschema
import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives import serialization

from faults import address, connected_pair
from stack import ROOT
from switchboard_client import User

COLUMNS = ["check", "requests", "passed", "figures"]
OPERATORS = [{"$ne": None}, {"$gt": ""}, {"$where": "sleep(100)"}, {"$regex": ".*"}, ["$ne", 1], "{\"$ne\": null}"]
# What the gateway answers itself on any route (DESIGN.md, Gateway): too large, too many, headers too large.
GATEWAY_ANSWERS = {"413", "429", "431"}
SKIPPED = {"/chat/socket.io/", "/health", "/metrics", "/openapi.json", "/{service}/health", "/{service}/ready"}


def document():
    with open(os.path.join(ROOT, "openapi.json")) as f:
        return json.load(f)


def deref(doc, schema):
    if isinstance(schema, dict) and "$ref" in schema:
        node = doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return deref(doc, node)
    return schema


def sample(doc, schema, rng, depth=0):
    """A value that fits `schema` (roughly): the start the mutations work from."""
    schema = deref(doc, schema or {})
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object":
        return {name: sample(doc, prop, rng, depth + 1) for name, prop in schema.get("properties", {}).items()} if depth < 3 else {}
    if kind == "array":
        return [sample(doc, schema.get("items"), rng, depth + 1)] if depth < 3 else []
    if kind == "integer":
        return rng.randint(schema.get("minimum", 0), min(schema.get("maximum", 100), 100))
    if kind == "number":
        return rng.random() * 100
    if kind == "boolean":
        return rng.random() < 0.5
    if schema.get("format") == "email":
        return f"fuzz{rng.randint(0, 10**6)}@example.com"
    return rng.choice(["hello", "a" * schema.get("minLength", 1), "6b0de3d98f8fd9d7177f47b7", "Ünïcödé ☃", ""])


ODD_VALUES = [None, 0, -1, 10**30, 1.5e308, True, "", " ", "a" * 20000, "\u0000", "\U0001F600" * 50,
              [], {}, [[[[[]]]]], "../../etc/passwd", "<script>alert(1)</script>", "ffffffffffffffffffffffff", "null"]


def mutate(value, rng):
    """One hostile change somewhere in `value`."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        choice = rng.random()
        changed = dict(value)
        if choice < 0.2:
            del changed[key]
        elif choice < 0.3:
            changed["$" + key] = changed[key]
        elif choice < 0.4:
            changed[f"extra{rng.randint(0, 99)}"] = rng.choice(ODD_VALUES)
        else:
            changed[key] = mutate(value[key], rng) if rng.random() < 0.3 else rng.choice(ODD_VALUES + OPERATORS)
        return changed
    return rng.choice(ODD_VALUES + OPERATORS + [value])


class Checker:
    """Sends requests and checks each answer: below 500, a status the operation documents,
    a body that fits the documented schema."""

    def __init__(self, stack, doc):
        self.stack, self.doc = stack, doc
        self.sent = 0
        self.problems = []

    def send(self, user, method, path, template, **kwargs):
        headers = {"X-Forwarded-For": address(), **kwargs.pop("headers", {})}
        if user and user.token:
            headers.setdefault("Authorization", f"Bearer {user.token}")
        self.sent += 1
        try:
            response = requests.request(method, self.stack.url + path, headers=headers, timeout=30, **kwargs)
        except requests.RequestException as error:
            self.problems.append(f"{method} {path}: no answer ({type(error).__name__})")
            return None
        self.check(method, template, path, response)
        return response

    def check(self, method, template, path, response):
        operation = self.doc["paths"].get(template, {}).get(method.lower(), {})
        documented = operation.get("responses", {})
        status = str(response.status_code)
        where = f"{method} {path[:80]} -> {status}"
        if response.status_code >= 500:
            self.problems.append(f"{where}: {response.text[:160]}")
            return
        if status not in documented and status in GATEWAY_ANSWERS:
            schema = {"$ref": "#/components/schemas/Error"}  # the gateway's own answer, on any route
        elif status not in documented:
            self.problems.append(f"{where}: not a documented status ({sorted(documented)})")
            return
        else:
            schema = documented.get(status, {}).get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return
        try:
            body = response.json()
        except ValueError:
            self.problems.append(f"{where}: not JSON: {response.text[:100]}")
            return
        try:
            jsonschema.validate(body, {**schema, "components": self.doc["components"]}, cls=jsonschema.Draft202012Validator)
        except jsonschema.ValidationError as error:
            self.problems.append(f"{where}: breaks the documented schema: {error.message[:160]}")


def fill(template, ids, rng):
    path = template
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        name = path[start + 1:end]
        value = rng.choice([ids.get(name, "6b0de3d98f8fd9d7177f47b7"), "6b0de3d98f8fd9d7177f47b7", "not-an-id", "%24ne", "a" * 300, "0"])
        path = path[:start] + requests.utils.quote(str(value), safe="") + path[end + 1:]
    return path


def fuzz(stack, doc, user, ids, cases, rng):
    """Every operation, `cases` generated requests each."""
    checker = Checker(stack, doc)
    operations = [(p, m, op) for p, ops in doc["paths"].items() if p not in SKIPPED
                  for m, op in ops.items() if m in ("get", "post", "put", "patch", "delete")]
    for template, method, op in operations:
        content = op.get("requestBody", {}).get("content", {})
        for _ in range(cases):
            path = fill(template, ids, rng)
            params = {p["name"]: mutate(sample(doc, p.get("schema"), rng), rng) for p in op.get("parameters", []) if p.get("in") == "query"}
            params = {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in params.items() if v is not None}
            kwargs = {"params": params}
            if "application/json" in content:
                body = mutate(sample(doc, content["application/json"].get("schema"), rng), rng)
                kwargs["data"] = json.dumps(body) if rng.random() < 0.9 else "{not json" + "[" * 50
                kwargs["headers"] = {"Content-Type": "application/json"}
            elif "multipart/form-data" in content:
                kwargs["files"] = {"file": ("x.png", os.urandom(rng.randint(0, 4096)), rng.choice(["image/png", "text/plain", "application/x-msdownload"]))}
                kwargs["data"] = {"chatId": str(rng.choice(OPERATORS + [ids.get("chatId", "")]))}
            checker.send(user, method.upper(), path, template, **kwargs)
    return checker, len(operations)


def injection(stack, doc, user, ids):
    """Each operator-looking value in each body field and query parameter: a 4xx, never a 2xx."""
    checker = Checker(stack, doc)
    accepted = []
    rng = random.Random(1)
    for template, ops in doc["paths"].items():
        if template in SKIPPED:
            continue
        for method, op in ops.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            path = template
            for name in [part.split("}")[0] for part in template.split("{")[1:]]:
                path = path.replace("{" + name + "}", ids.get(name, "6b0de3d98f8fd9d7177f47b7"))
            schema = deref(doc, op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema"))
            fields = list((schema or {}).get("properties", {}))
            for field in fields:
                for operator in OPERATORS[:3]:
                    body = sample(doc, schema, rng)
                    body[field] = operator
                    response = checker.send(user, method.upper(), path, template, json=body)
                    if response is not None and response.status_code < 300:
                        accepted.append(f"{method.upper()} {template} {field}={operator}")
            for parameter in [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"]:
                for suffix, value in ((f"{parameter}[$ne]", "x"), (parameter, '{"$gt": ""}')):
                    response = checker.send(user, method.upper(), path, template, params={suffix: value})
                    if response is not None and response.status_code >= 500:
                        accepted.append(f"{method.upper()} {template} ?{suffix}")
    return checker, accepted


def authorization(stack, owner, stranger, ids):
    """`stranger` uses every id `owner` has: never a 2xx, never someone else's data."""
    attempts = [
        ("PATCH", f"/request/respond/{ids['requestId']}", {"json": {"status": "accepted"}}),
        ("DELETE", f"/request/cancel/{ids['requestId']}", {}),
        ("GET", f"/chat/messages/{ids['chatId']}", {}),
        ("GET", f"/chat/messages/{ids['groupId']}", {}),
        ("GET", f"/chat/files/{ids['fileId']}", {}),
        ("PUT", "/chat/add-to-group", {"json": {"chatId": ids["groupId"], "userId": stranger.id}}),
        ("PUT", "/chat/remove-from-group", {"json": {"chatId": ids["groupId"], "userId": owner.id}}),
        ("PUT", "/chat/leave-group", {"json": {"chatId": ids["groupId"]}}),
        ("POST", "/chat/send-file", {"data": {"chatId": ids["chatId"]}, "files": {"file": ("a.png", PNG, "image/png")}}),
        ("POST", "/chat/create-direct", {"json": {"receiverId": owner.id}}),
    ]
    results = []
    for method, path, kwargs in attempts:
        status = stranger.call(method, path, **kwargs).status_code
        results.append((f"{method} {path.split('/')[1]}/{path.split('/')[2]}", status))
    leaked = [f"{what} -> {status}" for what, status in results if status < 400 or status >= 500]
    return len(attempts), leaked, results


PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def uploads(stack, user, chat):
    cases = [
        ("picture of 5.5 MB", "PATCH", "/profile/patchProfile", {"files": {"profilePicture": ("big.png", PNG + os.urandom(5_500_000), "image/png")}}, {413}),
        ("picture that is not an image", "PATCH", "/profile/patchProfile", {"files": {"profilePicture": ("x.png", b"MZ\x90\x00 not an image", "image/png")}}, {400, 415}),
        ("multipart with a broken boundary", "PATCH", "/profile/patchProfile",
         {"data": b"--xyz\r\nContent-Disposition: form-data; name=\"about\"\r\n\r\nhi", "headers": {"Content-Type": "multipart/form-data; boundary=abc"}}, {400}),
        ("multipart without a boundary", "POST", "/chat/send-file", {"data": b"junk", "headers": {"Content-Type": "multipart/form-data"}}, {400, 415}),
        ("file without chatId", "POST", "/chat/send-file", {"files": {"file": ("a.png", PNG, "image/png")}}, {400}),
        ("file of 7 MB (over the gateway's max_body)", "POST", "/chat/send-file", {"data": {"chatId": chat}, "files": {"file": ("b.png", PNG + bytes(7_000_000), "image/png")}}, {413}),
        # Any file is taken, as by the reference; it is served as bytes, as an attachment (ChatTests check how).
        ("executable named .png", "POST", "/chat/send-file", {"data": {"chatId": chat}, "files": {"file": ("c.png", b"MZ\x90\x00\x03" + bytes(100), "image/png")}}, {201}),
        ("JSON body of 2 MB", "POST", "/request/invite/send", {"data": "{\"toEmail\": \"" + "a" * 2_000_000 + "\"}", "headers": {"Content-Type": "application/json"}}, {413}),
        ("JSON declared, form sent", "POST", "/request/invite/send", {"data": "toEmail=x", "headers": {"Content-Type": "application/json"}}, {400}),
    ]
    rows = []
    for name, method, path, kwargs, expected in cases:
        try:
            status = user.call(method, path, **kwargs).status_code
        except requests.RequestException as error:
            status = type(error).__name__
        rows.append((name, status, status in expected))
    return rows


def socketio_packets(stack, user):
    """Malformed Engine.IO/Socket.IO traffic over long-polling: refused or ignored, never a 5xx;
    a well-behaved client still chats afterwards."""
    base = stack.url + "/chat/socket.io/"
    # Addresses of their own: this traffic must not use up the good client's rate limit. A
    # polling session keeps one address (ip_hash keeps it on the replica that holds it).
    headers = {"X-Forwarded-For": address()}
    statuses = []

    def open_session():
        response = requests.get(base, params={"EIO": "4", "transport": "polling"}, headers=headers, timeout=10)
        statuses.append(response.status_code)
        return json.loads(response.text[1:])["sid"] if response.status_code == 200 else None

    bad_opens = [{"EIO": "3", "transport": "polling"}, {"EIO": "4", "transport": "carrier-pigeon"}, {"EIO": "4", "transport": "polling", "sid": "nope"},
                 {"EIO": "x"}, {}]
    for params in bad_opens:
        statuses.append(requests.get(base, params=params, headers=headers, timeout=10).status_code)
    payloads = ["", "9", "4", "40/no-such-namespace,", "40{not json", "42[\"sendMessage\"", "42[\"sendMessage\",{\"chatId\":{\"$ne\":null},\"text\":\"x\"}]",
                "42" + json.dumps(["sendMessage", {"chatId": "6b0de3d98f8fd9d7177f47b7", "text": "x" * 200_000}]), "451-[\"x\",{\"_placeholder\":true,\"num\":7}]",
                "\x1e".join(["4"] * 500), "b" + base64.b64encode(os.urandom(64)).decode(), "\x00\xff\xfe"]
    for payload in payloads:
        headers["X-Forwarded-For"] = address()
        sid = open_session()
        if not sid:
            continue
        requests.post(base, params={"EIO": "4", "transport": "polling", "sid": sid}, data=f"40{json.dumps({'token': user.token})}", headers=headers, timeout=10)
        statuses.append(requests.post(base, params={"EIO": "4", "transport": "polling", "sid": sid}, data=payload.encode("utf-8", "surrogatepass"),
                                      headers=headers, timeout=10).status_code)
        statuses.append(requests.get(base, params={"EIO": "4", "transport": "polling", "sid": sid}, headers=headers, timeout=30).status_code)
    healthy = False
    try:
        client = user.socket("websocket")
        healthy = client.connected
        client.disconnect()
    except Exception:  # noqa: BLE001 - reported as not healthy
        pass
    return len(statuses), [s for s in statuses if s >= 500], healthy


def forged_tokens(stack, user):
    """Every way of faking a token is a 401 on every protected route."""
    header, payload, _ = user.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    kid = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))).get("kid")
    keys_dir = stack.env["AUTH_KEYS_DIR"]
    real_key = open(os.path.join(keys_dir, f"{kid}.pem")).read()
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    now = int(time.time())
    b64 = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()  # noqa: E731
    forged = {
        "expired (signed with the real key)": jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, real_key, algorithm="RS256", headers={"kid": kid}),
        "signed with another key, same kid": jwt.encode({**claims, "exp": now + 3600}, own_key, algorithm="RS256", headers={"kid": kid}),
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({**claims, 'exp': now + 3600})}.",
        "HS256 with the public key as secret": jwt.encode({**claims, "exp": now + 3600}, "a shared secret the gateway never had, 32 bytes+", algorithm="HS256", headers={"kid": kid}),
        "another user's id in the payload": f"{header}.{b64({**claims, 'sub': '6b0de3d98f8fd9d7177f47b7'})}.{user.token.split('.')[2]}",
        "garbage": "not.a.token",
        "empty": "",
    }
    routes = [("GET", "/auth/me"), ("GET", "/profile/getProfile"), ("GET", "/request/invites/received"), ("GET", "/chat/my-chats")]
    wrong = []
    for name, token in forged.items():
        for method, path in routes:
            status = requests.request(method, stack.url + path, headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": address()}, timeout=10).status_code
            if status != 401:
                wrong.append(f"{name}: {method} {path} -> {status}")
        try:
            client = User(stack.url, "forger", address())
            client.token = token
            client.socket("polling").disconnect()
            wrong.append(f"{name}: Socket.IO connect accepted")
        except Exception:  # noqa: BLE001 - refused, as it should be
            pass
    return len(forged) * (len(routes) + 1), wrong


def schemathesis(stack, user, examples, seed):
    """Schemathesis (PyPI) against the gateway with every check: statuses, content types, headers
    and bodies as documented, schema-valid data accepted and invalid data refused, 405 with
    Allow for undocumented methods, authentication not ignored, and its stateful sequences.
    Logout and account deletion would end the session it runs with: left out."""
    command = [os.path.join(os.path.dirname(sys.executable), "schemathesis"), "--no-color", "--config-file", os.path.join(ROOT, "Tests", "StressTests", "schemathesis.toml"),
               "run", os.path.join(ROOT, "openapi.json"), "--url", stack.url, "--checks", "all", "-H", f"Authorization: Bearer {user.token}",
               "--exclude-operation-id", "deleteMe", "--exclude-operation-id", "logout", "--workers", "1",
               "--max-examples", str(examples), "--request-timeout", "20", "--seed", str(seed)]
    result = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    out = result.stdout
    # The whole output stays after the run (the stack's state does not): what failed, and how to replay it.
    saved = os.path.join(tempfile.gettempdir(), f"switchboard-schemathesis-{seed}.log")
    with open(saved, "w") as f:
        f.write(out)
    generated = re.search(r"(\d+) generated", out)
    failures = re.findall(r"❌ (ST\d+ [^:\n]+): (\d+)", out)
    figures = f"{generated.group(1) if generated else '?'} cases; " + ("; ".join(f"{name} ×{count}" for name, count in failures) if failures else "0 failures")
    if result.returncode != 0:
        operations = sorted(set(re.findall(r"_{3,} ([A-Z]+ /[^ ]*) _{3,}", out)))
        figures += f" in {', '.join(operations) or '?'} (output: {saved})"
        if not failures:
            figures += " | " + out[-600:].replace("\n", " ")
    return int(generated.group(1)) if generated else 0, result.returncode == 0, figures


def run(stack, reduced, seed):
    rng = random.Random(seed)
    doc = document()
    owner, friend, chat = connected_pair(stack, "owner")
    third, fourth = (User(stack.url, name, address()).signup() for name in ("third", "fourth"))
    third.json("PATCH", f"/request/respond/{owner.invite(third, 30)}", json={"status": "accepted"})
    invite = owner.invite(fourth, 30)
    owner.direct_chat(third, 30)  # chat knows they are connected: a group with third can be made
    group = owner.json("POST", "/chat/create-group", 201, json={"name": "Owners", "participants": [friend.id, third.id]})["_id"]
    file_id = owner.json("POST", "/chat/send-file", 201, data={"chatId": chat}, files={"file": ("a.png", PNG, "image/png")})["file"]["fileId"]
    ids = {"userId": owner.id, "requestId": invite, "chatId": chat, "groupId": group, "fileId": file_id}
    stranger = User(stack.url, "stranger", address()).signup()

    rows = []
    # Generated requests may delete the account they use or change its password: throwaway users.
    fuzzer, injector = (User(stack.url, name, address()).signup() for name in ("fuzzer", "injector"))
    checker, operations = fuzz(stack, doc, fuzzer, ids, 4 if reduced else 40, rng)
    rows.append({"check": f"generated requests for every operation ({operations} operations, seed {seed})", "requests": checker.sent,
                 "passed": not checker.problems, "figures": f"{len(checker.problems)} answers 5xx, undocumented or off-schema; " + "; ".join(checker.problems[:4])})
    checker, accepted = injection(stack, doc, injector, ids)
    rows.append({"check": "NoSQL operators in every body field and query parameter", "requests": checker.sent,
                 "passed": not accepted and not checker.problems, "figures": f"{len(accepted)} accepted; {len(checker.problems)} 5xx/undocumented; "
                 + "; ".join((accepted + checker.problems)[:4])})
    count, leaked, results = authorization(stack, owner, stranger, ids)
    rows.append({"check": "one user's ids used by another", "requests": count, "passed": not leaked,
                 "figures": ", ".join(f"{what} {status}" for what, status in results)})
    upload_rows = uploads(stack, owner, chat)
    rows.append({"check": "oversized and malformed uploads", "requests": len(upload_rows), "passed": all(ok for _, _, ok in upload_rows),
                 "figures": ", ".join(f"{name}: {status}" for name, status, _ in upload_rows)})
    count, server_errors, healthy = socketio_packets(stack, owner)
    rows.append({"check": "malformed Engine.IO / Socket.IO packets", "requests": count, "passed": not server_errors and healthy,
                 "figures": f"{len(server_errors)} 5xx; a good client connects afterwards: {healthy}"})
    count, wrong = forged_tokens(stack, owner)
    rows.append({"check": "forged and expired tokens (4 routes and the Socket.IO handshake each)", "requests": count, "passed": not wrong,
                 "figures": f"{len(wrong)} not refused; " + "; ".join(wrong[:4])})
    count, passed, figures = schemathesis(stack, User(stack.url, "thesis", address()).signup(), 8 if reduced else 60, seed)
    rows.append({"check": f"schemathesis 4.32.5, every check, every operation but logout and account deletion (seed {seed})",
                 "requests": count, "passed": passed, "figures": figures})
    return rows
