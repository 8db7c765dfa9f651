"""Rolling restarts under load, as a rolling update does them: two instances of every service
behind the gateway; each instance in turn gets a replacement started (and ready) first, the
gateway is pointed at it by SIGHUP, and the old one is sent SIGTERM (it drains). Meanwhile a
steady mixed load goes through the gateway — signups, logins, profile reads and edits, invites
sent and cancelled, chat messages over Socket.IO. Bar: no failed request, every signup's
profile made exactly once (no event lost or applied twice), every Socket.IO client of a
stopped chat instance back (reconnected) with no acknowledged message missing from history,
and no connection dropped by the gateway's reloads."""
import random
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from faults import address, connected_pair, history_texts, wait_profiles
from load import Recorder, invite_and_cancel
from switchboard_client import User, eventually

COLUMNS = ["figure", "value", "passed"]


class Sockets:
    """Chat clients that reconnect by themselves (python-socketio) and join their chat again on
    every connect; sends wait for the connection rather than fail while it is being re-made."""

    def __init__(self, pairs):
        self.clients = []
        for a, b, chat in pairs:
            client = a.socket("websocket", reconnection=True)
            client.connects = 0
            client.up = threading.Event()

            def on_connect(client=client, chat=chat):
                client.connects += 1
                # In a thread of its own: an emit from the connect handler would wait on itself.
                threading.Thread(target=lambda: (client.call("joinChat", {"chatId": chat}, timeout=10), client.up.set()), daemon=True).start()

            def on_disconnect(*_, client=client):
                client.up.clear()

            client.on("connect", on_connect)
            client.on("disconnect", on_disconnect)
            client.call("joinChat", {"chatId": chat}, timeout=10)
            client.up.set()
            self.clients.append((client, chat, threading.Lock(), a))
        self.acknowledged = {chat: [] for _, _, chat in pairs}

    def send(self, n):
        client, chat, lock, _ = self.clients[n % len(self.clients)]
        with lock:
            if not client.up.wait(20):
                raise TimeoutError("the socket did not come back within 20 s")
            text = f"rolling {n}"
            reply = client.call("sendMessage", {"chatId": chat, "text": text}, timeout=10)
            if reply.get("ok"):
                self.acknowledged[chat].append(text)
            return reply.get("ok")

    def reconnections(self):
        return sum(client.connects for client, _, _, _ in self.clients)

    def missing(self):
        """Acknowledged messages not in their chat's history."""
        missing = []
        for client, chat, _, owner in self.clients:
            history = history_texts(owner, chat)
            missing += [t for t in self.acknowledged[chat] if t not in history]
        return missing

    def close(self):
        for client, _, _, _ in self.clients:
            client.disconnect()


class KeptConnection:
    """One TCP connection to the gateway sending GET /health every second until stopped."""

    def __init__(self, port):
        self.connection = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.answered, self.failure = 0, None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.ask, daemon=True)
        self.thread.start()

    def ask(self):
        while not self.done.is_set() and self.failure is None:
            try:
                self.connection.sendall(b"GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n")
                answer = b""
                while b"\r\n\r\n" not in answer:
                    chunk = self.connection.recv(4096)
                    if not chunk:
                        raise ConnectionError("closed by the gateway")
                    answer += chunk
                head, _, rest = answer.partition(b"\r\n\r\n")
                length = int(next((line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), b"0"))
                while len(rest) < length:
                    rest += self.connection.recv(4096)
                if not head.startswith(b"HTTP/1.1 200"):
                    raise ConnectionError(head[:60].decode(errors="replace"))
                self.answered += 1
            except Exception as error:  # noqa: BLE001 - reported
                self.failure = f"{type(error).__name__}: {error}"
            self.done.wait(1)

    def stop(self):
        self.done.set()
        self.thread.join(15)
        self.connection.close()


def steady_load(stack, users, sockets, rate, stop, recorder, signed_up):
    """`rate` operations a second until `stop` is set: 10 % signups, 10 % logins, 30 % profile
    reads, 10 % profile edits, 15 % invites (sent and cancelled), 25 % chat messages."""
    mix = ["signup"] * 10 + ["login"] * 10 + ["profile"] * 30 + ["edit"] * 10 + ["invite"] * 15 + ["message"] * 25
    random.shuffle(mix)

    def operate(n):
        kind = mix[n % len(mix)]
        user = users[n % len(users)]
        started = time.time()
        try:
            if kind == "signup":
                fresh = User(stack.url, f"roll{n}", address())
                fresh.signup()
                signed_up.append(fresh)
                status = 201
            elif kind == "login":
                status = user.call("POST", "/auth/login", json={"emailId": user.email, "password": user.password}, wait_429=False,
                                   headers={"X-Forwarded-For": address()}).status_code
            elif kind == "profile":
                status = user.call("GET", f"/profile/{users[(n * 7 + 1) % len(users)].id}", wait_429=False).status_code
            elif kind == "edit":
                status = user.call("PATCH", "/profile/patchProfile", json={"about": f"edit {n}"}, wait_429=False).status_code
            elif kind == "invite":
                invite_and_cancel(user, users[(n * 5 + 3) % len(users)], recorder, started)
                return
            else:
                status = 200 if sockets.send(n) else 500
            recorder.record(kind, started, status)
        except Exception as error:  # noqa: BLE001 - counted as a failure of that operation
            recorder.record("invite send" if kind == "invite" else kind, started, error=error)

    begin, n = time.time(), 0
    with ThreadPoolExecutor(32) as pool:
        while not stop.is_set():
            delay = begin + n / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            pool.submit(operate, n)
            n += 1
    return time.time() - begin


def run(stack, reduced):
    count, rate = (8, 10) if reduced else (30, 40)
    users = [User(stack.url, f"rollers{i}", address()).signup() for i in range(count)]
    for user in users:
        eventually(f"{user.name}'s profile", lambda: user.call("GET", "/profile/getProfile").status_code == 200, 30)
    pairs = [connected_pair(stack, f"rollchat{i}") for i in range(2 if reduced else 6)]
    # Instances started from now on read the auth keys through the gateway, an address that
    # outlives any one auth instance (as a Kubernetes Service name would).
    stack.env["AUTH_JWKS_URL"] = f"{stack.url}/auth/.well-known/jwks.json"
    # Two instances of every service (chat has two already).
    for kind in ("profile", "request", "auth"):
        while len(stack.instances[kind]) < 2:
            stack.add_instance(kind)
    stack.reload_gateway()
    sockets = Sockets(pairs)
    connects_before = sockets.reconnections()
    # One keep-alive connection through the gateway asks every second for the whole roll:
    # a reload must drop no connection.
    held = KeptConnection(stack.port("gateway"))

    recorder, signed_up, stop = Recorder(), [], threading.Event()
    elapsed = [0.0]
    loader = threading.Thread(target=lambda: elapsed.__setitem__(0, steady_load(stack, users, sockets, rate, stop, recorder, signed_up)))
    loader.start()
    rolled, reloads = [], 0
    try:
        time.sleep(1)
        for kind in ("profile", "request", "chat", "auth"):
            for old in list(stack.instances[kind]):
                started = time.time()
                new = stack.add_instance(kind)
                stack.retire_instance(old)
                reloads += 1
                stack.stop(old)
                rolled.append(f"{old}→{new} {time.time() - started:.1f} s")
                time.sleep(0.5)
        time.sleep(1)
    finally:
        stop.set()
        loader.join()
        held.stop()
    kept = held.answered > 0 and held.failure is None
    have, duplicated, waited = wait_profiles(stack, signed_up, 60)
    time.sleep(1)
    missing = sockets.missing()
    reconnections = sockets.reconnections() - connects_before
    sockets.close()

    rows = recorder.rows("rolling", elapsed[0])
    requests_total = sum(r["requests"] for r in rows)
    failures = sum(r["errors"] for r in rows)
    failed_detail = {r["operation"]: {k: v for k, v in r["answers"].items() if not (isinstance(k, int) and k < 400) and k != 409}
                     for r in rows if r["errors"]}
    chat_clients = len(sockets.clients)
    figures = [
        ("instances restarted (start new, SIGHUP gateway, SIGTERM old)", f"{len(rolled)}: " + ", ".join(rolled), len(rolled) == 8),
        ("gateway reloads (SIGHUP)", reloads + 1, True),
        ("requests and socket sends during the roll", f"{requests_total} in {elapsed[0]:.0f} s", requests_total > 0),
        ("failed", f"{failures} {failed_detail}" if failures else 0, failures == 0),
        ("signups during the roll / their profiles / duplicated", f"{len(signed_up)} / {have} / {duplicated} (complete {waited:.1f} s after)",
         have == len(signed_up) and duplicated == 0),
        ("Socket.IO reconnections (clients of stopped chat instances)", f"{reconnections} over {chat_clients} clients", reconnections >= 1),
        ("acknowledged chat messages missing from history", len(missing), not missing),
        ("one keep-alive connection asking every second across every reload", f"{held.answered} answers, failure: {held.failure}", kept),
    ]
    return [{"figure": f, "value": v, "passed": p} for f, v, p in figures], rows
