"""Load through the gateway: a mixed workload (logins, profile reads, invites sent and
cancelled, chat messages over Socket.IO) issued at a fixed rate for a fixed time whatever the
answers' speed (open loop), and an overload run: one client at ten times its rate limit."""
import random
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from faults import address, connected_pair
from switchboard_client import User, eventually

COLUMNS = ["run", "operation", "requests", "per second", "p50 ms", "p99 ms", "errors", "answers", "passed"]
PROCESS_COLUMNS = ["process", "CPU s", "CPU % of a core", "RSS MiB"]


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)
        self.answers = defaultdict(lambda: defaultdict(int))
        self.errors = defaultdict(int)

    def record(self, operation, started, status=None, error=None, ok=None):
        with self.lock:
            if error is not None:
                self.errors[operation] += 1
                self.answers[operation][type(error).__name__] += 1
                return
            self.answers[operation][status] += 1
            if ok if ok is not None else status < 400:
                self.latencies[operation].append((time.time() - started) * 1000)
            else:
                self.errors[operation] += 1

    def rows(self, run, seconds):
        rows = []
        for operation in sorted(self.answers):
            count = sum(self.answers[operation].values())
            ok = self.latencies[operation]
            rows.append({"run": run, "operation": operation, "requests": count, "per second": f"{count / seconds:.1f}",
                         "p50 ms": f"{percentile(ok, 0.5):.1f}", "p99 ms": f"{percentile(ok, 0.99):.1f}",
                         "errors": self.errors[operation], "answers": dict(self.answers[operation])})
        return rows


def invite_and_cancel(user, other, recorder, started):
    """An invite sent and, once made, cancelled: two requests, each recorded. A 409 (that
    invite is already pending: another operation sent it) is an answer, not an error."""
    response = user.call("POST", "/request/invite/send", json={"toEmail": other.email}, wait_429=False)
    recorder.record("invite send", started, response.status_code, ok=response.status_code in (201, 409))
    if response.status_code == 201:
        started = time.time()
        recorder.record("invite cancel", started, user.call("DELETE", f"/request/cancel/{response.json()['data']['id']}", wait_429=False).status_code)


def at_rate(rate, seconds, operate, workers):
    """`operate(n)` in a pool, `rate` times a second for `seconds`, whatever the answers'
    speed (open loop); the time it took."""
    begin = time.time()
    with ThreadPoolExecutor(workers) as pool:
        for n in range(int(rate * seconds)):
            delay = begin + n / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            pool.submit(operate, n)
    return time.time() - begin


def mixed(stack, users, pairs, rate, seconds):
    """`rate` operations a second for `seconds`: 10 % logins, 40 % profile reads, 20 % invites
    (sent and cancelled: two requests), 30 % chat messages (acknowledged over Socket.IO)."""
    recorder = Recorder()
    sockets = []
    for a, b, chat in pairs:
        client = a.socket("websocket")
        client.call("joinChat", {"chatId": chat}, timeout=10)
        sockets.append((client, chat, threading.Lock()))
    mix = ["login"] * 10 + ["profile"] * 40 + ["invite"] * 20 + ["message"] * 30
    random.shuffle(mix)

    def operate(kind, n):
        user = users[n % len(users)]
        started = time.time()
        try:
            if kind == "login":
                # From an address of its own each time (another device): the throttle's per-address
                # count is not cleared by a success, and the run's allowance is small (5).
                status = user.call("POST", "/auth/login", json={"emailId": user.email, "password": user.password}, wait_429=False,
                                   headers={"X-Forwarded-For": address()}).status_code
            elif kind == "profile":
                other = users[(n * 7 + 1) % len(users)]
                status = user.call("GET", f"/profile/{other.id}", wait_429=False).status_code
            elif kind == "invite":
                invite_and_cancel(user, users[(n * 5 + 3) % len(users)], recorder, started)
                return
            else:
                client, chat, lock = sockets[n % len(sockets)]
                with lock:
                    reply = client.call("sendMessage", {"chatId": chat, "text": f"load {n}"}, timeout=10)
                status = 200 if reply.get("ok") else 500
            recorder.record(kind, started, status)
        except Exception as error:  # noqa: BLE001 - counted as an error of that operation
            recorder.record("invite send" if kind == "invite" else kind, started, error=error)

    elapsed = at_rate(rate, seconds, lambda n: operate(mix[n % len(mix)], n), workers=64)
    for client, _, _ in sockets:
        client.disconnect()
    rows = recorder.rows(f"mixed {rate}/s", elapsed)
    for row in rows:
        row["passed"] = row["errors"] == 0
    return rows


def overload(stack, seconds, limit_per_second=10, burst=20):
    """One client at ten times the route's rate limit: the gateway sheds the excess with 429,
    what it lets through stays fast, and nothing falls over."""
    user = User(stack.url, "flood", address()).signup()
    recorder = Recorder()
    rate = 10 * limit_per_second

    def one(n):
        started = time.time()
        try:
            recorder.record("profile read at 10x", started, user.call("GET", "/profile/getProfile", wait_429=False).status_code)
        except Exception as error:  # noqa: BLE001
            recorder.record("profile read at 10x", started, error=error)

    time.sleep(burst / limit_per_second + 0.5)  # the signup's own requests drained from the bucket
    elapsed = at_rate(rate, seconds, one, workers=32)
    rows = recorder.rows(f"overload {rate}/s from one client", elapsed)
    answers = recorder.answers["profile read at 10x"]
    allowed = answers.get(200, 0) + answers.get(404, 0)
    shed = answers.get(429, 0)
    server_errors = sum(n for status, n in answers.items() if isinstance(status, int) and status >= 500)
    ceiling = limit_per_second * elapsed + burst + 5
    p99 = percentile(recorder.latencies["profile read at 10x"], 0.99)
    alive = all(stack.alive(name) for name in stack.all_names())
    for row in rows:
        row["passed"] = shed > 0 and allowed <= ceiling and server_errors == 0 and p99 < 1000 and alive
        row["answers"] = f"{dict(answers)}; allowed {allowed} (at most {ceiling:.0f}), all processes up: {alive}"
        row["errors"] = server_errors
    return rows


def run(stack, reduced):
    count, rate, seconds = (8, 20, 10) if reduced else (40, 100, 60)
    users = [User(stack.url, f"load{i}", address()).signup() for i in range(count)]
    for user in users:
        eventually(f"{user.name}'s profile", lambda: user.call("GET", "/profile/getProfile").status_code == 200, 30)
    pairs = [connected_pair(stack, f"loadchat{i}") for i in range(2 if reduced else 10)]
    before, started = stack.usage(), time.time()
    rows = mixed(stack, users, pairs, rate, seconds)
    rows += overload(stack, 5 if reduced else 20)
    after, elapsed = stack.usage(), time.time() - started
    processes = [{"process": name, "CPU s": f"{after[name][0] - before[name][0]:.1f}",
                  "CPU % of a core": f"{100 * (after[name][0] - before[name][0]) / elapsed:.0f}", "RSS MiB": f"{after[name][1]:.0f}"}
                 for name in stack.all_names()]
    return rows, processes
