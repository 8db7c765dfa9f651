"""Fault injection against the stress stack: each scenario breaks one part on purpose,
keeps using the system, and asserts what the user of a production chat backend is promised:
nothing acknowledged is lost, nothing is applied twice, and the system recovers by itself."""
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from bson import ObjectId
from switchboard_client import Failure, User, eventually, expect

_addresses = iter(range(1, 10_000_000))


def address():
    """A client address of its own (10.x.y.z), so per-address rate limits apply per user."""
    n = next(_addresses)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def address_for_instance(index, count):
    """An address the gateway's ip_hash (FNV-1a, as GatewayRuntime.stableHash) sends to instance `index`."""
    while True:
        candidate = address()
        value = 0xcbf29ce484222325
        for byte in candidate.encode():
            value = ((value ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
        if (value % (2**63 - 1)) % count == index:
            return candidate


def signups(stack, count, label, during=None, threads=8):
    """`count` users signed up through the gateway at once; `during(done)` is called as they finish.
    Returns (users, failures)."""
    users = [User(stack.url, f"{label}{i}", address()) for i in range(count)]
    failures = []
    done = [0]
    lock = threading.Lock()

    def one(user):
        try:
            user.signup()
        except Exception as error:  # noqa: BLE001 - every failure is reported, not raised
            failures.append(str(error)[:200])
        with lock:
            done[0] += 1
            finished = done[0]
        if during:
            during(finished)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, users))
    return [u for u in users if u.id], failures


def profiles_of(stack, users):
    """How many of `users` have a profile, and how many profiles any of them has more than one of."""
    ids = [u.id for u in users]
    with stack.mongo() as client:
        found = Counter(doc["_id"] for doc in client["profileDB"]["profiles"].find({"_id": {"$in": ids}}, {"_id": 1}))
    return len(found), sum(1 for n in found.values() if n > 1)


def wait_profiles(stack, users, seconds):
    started = time.time()
    while True:
        have, duplicated = profiles_of(stack, users)
        if have == len(users) or time.time() - started > seconds:
            return have, duplicated, time.time() - started
        time.sleep(0.5)


def rabbitmq_killed_during_signups(stack, count):
    """kill -9 of the broker a third of the way into a stream of signups, restarted at two thirds."""
    state = {"killed": False, "restarted": None}
    restart = threading.Event()

    def during(done):
        if done >= count // 3 and not state["killed"]:
            state["killed"] = True
            stack.kill("rabbitmq")
        if done >= 2 * count // 3 and state["killed"] and not restart.is_set():
            restart.set()

    def restarter():
        restart.wait()
        started = time.time()
        stack.restart("rabbitmq")
        state["restarted"] = time.time() - started

    thread = threading.Thread(target=restarter)
    thread.start()
    users, failures = signups(stack, count, "rabbit", during)
    restart.set()
    thread.join()
    have, duplicated, waited = wait_profiles(stack, users, 180)
    with stack.mongo() as client:
        accounts = client["authDB"]["users"].count_documents({"_id": {"$in": [ObjectId(u.id) for u in users]}})
    ok = not failures and have == count and duplicated == 0 and accounts == count
    return dict(scenario="RabbitMQ kill -9 during signups, restarted", passed=ok,
                figures=f"{len(users)}/{count} signups ok, {accounts} accounts, {have} profiles, {duplicated} duplicated; "
                        f"broker back in {state['restarted'] or 0:.1f} s, profiles complete {waited:.1f} s after the last signup",
                detail="; ".join(failures[:3]))


def profile_killed_while_events_queue(stack, count):
    stack.kill("profile")
    users, failures = signups(stack, count, "queued")
    queued_have, _ = profiles_of(stack, users)
    started = time.time()
    stack.restart("profile")
    stack.wait_ready("profile")
    have, duplicated, waited = wait_profiles(stack, users, 120)
    ok = not failures and queued_have == 0 and have == count and duplicated == 0
    return dict(scenario="profile service kill -9 while its events queue, restarted", passed=ok,
                figures=f"{len(users)}/{count} signups while it was down ({queued_have} profiles meanwhile); "
                        f"{have} profiles, {duplicated} duplicated, {time.time() - started:.1f} s after the restart",
                detail="; ".join(failures[:3]))


def history_texts(user, chat):
    """Every message text in `chat`'s history as `user` reads it, page by page."""
    texts, cursor = set(), None
    while True:
        page = user.call("GET", f"/chat/messages/{chat}?limit=100" + (f"&before={cursor}" if cursor else ""), 200)
        texts |= {m["text"] for m in page.json()}
        cursor = page.headers.get("X-Next-Cursor")
        if page.headers.get("X-Has-More") != "true" or not cursor:
            return texts


def connected_pair(stack, label, addresses=(None, None)):
    """Two users who accepted an invite: a direct chat between them can be opened."""
    a = User(stack.url, f"{label}a", addresses[0] or address()).signup()
    b = User(stack.url, f"{label}b", addresses[1] or address()).signup()
    b.json("PATCH", f"/request/respond/{a.invite(b, 30)}", json={"status": "accepted"})
    return a, b, a.direct_chat(b, 30)


def request_killed_between_write_and_publish(stack):
    """The broker is down (so nothing can be published), an invite is accepted (the database
    write is done), the request service is killed; the broker comes back, nothing has reached
    chat; the request service restarts and the event goes out from its outbox."""
    a = User(stack.url, "outboxa", address()).signup()
    b = User(stack.url, "outboxb", address()).signup()
    invite = a.invite(b, 30)
    stack.kill("rabbitmq")
    accepted = b.call("PATCH", f"/request/respond/{invite}", json={"status": "accepted"}).status_code
    stack.kill("request")
    stack.restart("rabbitmq")
    time.sleep(3)
    before = a.call("POST", "/chat/create-direct", json={"receiverId": b.id}).status_code
    started = time.time()
    stack.restart("request")
    try:
        eventually("chat learns of the accepted invite", lambda: a.call("POST", "/chat/create-direct", json={"receiverId": b.id}).status_code in (200, 201), 60)
        after = 200
    except Failure:
        after = a.call("POST", "/chat/create-direct", json={"receiverId": b.id}).status_code
    ok = accepted == 200 and before == 403 and after in (200, 201)
    return dict(scenario="request service kill -9 between its database write and its publish", passed=ok,
                figures=f"accept answered {accepted}; before the restart chat said {before} (not connected); "
                        f"{time.time() - started:.1f} s after the restart chat said {after}",
                detail="")


def redis_stopped_during_traffic(stack, count):
    """Redis stopped: logins, profile reads and invite lists keep working; the login throttle fails open."""
    users = [User(stack.url, f"redis{i}", address()).signup() for i in range(3)]
    for user in users:
        eventually(f"{user.name}'s profile", lambda: user.call("GET", "/profile/getProfile").status_code == 200, 30)
    stack.stop("redis")
    statuses = Counter()
    try:
        for i in range(count):
            user = users[i % len(users)]
            session = user.call("POST", "/auth/login", json={"emailId": user.email, "password": user.password}, wait_429=True)
            statuses["login " + str(session.status_code)] += 1
            if session.status_code == 200:
                user.token = session.json()["access_token"]
            statuses["profile " + str(user.call("GET", f"/profile/{users[(i + 1) % len(users)].id}").status_code)] += 1
            statuses["invites " + str(user.call("GET", "/request/invites/received").status_code)] += 1
        # Wrong passwords for one account from fresh addresses: only the account count could stop them.
        victim = users[0]
        guesses_down = [User(stack.url, "guesser", address()).call("POST", "/auth/login", json={"emailId": victim.email, "password": "wrong guess"}).status_code
                        for _ in range(8)]
    finally:
        stack.restart("redis")
    guesses_up = [User(stack.url, "guesser", address()).call("POST", "/auth/login", json={"emailId": users[1].email, "password": "wrong guess"}, wait_429=False).status_code
                  for _ in range(8)]
    ok = all(k.endswith(" 200") for k in statuses) and set(guesses_down) == {401} and 429 in guesses_up
    return dict(scenario="Redis stopped during traffic (login throttle fails open)", passed=ok,
                figures=f"with Redis down: {dict(statuses)}; 8 wrong passwords for one account: {Counter(guesses_down)}; "
                        f"with Redis back: {Counter(guesses_up)}",
                detail="")


SERVICE_INSTANCES = ("auth", "profile", "request", "chat-1", "chat-2")


def mongo_restarted(stack):
    """SecantusDB stopped: every service reports not ready; started again: every service is
    ready again and serves, without being restarted itself."""
    stack.stop("mongo")
    deadline = time.time() + 30
    not_ready = set()
    while time.time() < deadline and len(not_ready) < len(SERVICE_INSTANCES):
        not_ready |= {name for name in SERVICE_INSTANCES if not stack.ready(name)}
        time.sleep(0.3)
    pids = {name: stack.pid(name) for name in SERVICE_INSTANCES}
    started = time.time()
    stack.restart("mongo")
    recovered = {}
    while time.time() - started < 90 and len(recovered) < len(SERVICE_INSTANCES):
        for name in SERVICE_INSTANCES:
            if name not in recovered and stack.ready(name):
                recovered[name] = time.time() - started
        time.sleep(0.3)
    same = all(stack.pid(name) == pid for name, pid in pids.items())
    serves = False
    try:
        user = User(stack.url, "aftermongo", address()).signup()
        serves = eventually("a profile after the restart", lambda: user.call("GET", "/profile/getProfile").status_code == 200, 30)
    except Failure:
        pass
    ok = len(not_ready) == len(SERVICE_INSTANCES) and len(recovered) == len(SERVICE_INSTANCES) and same and serves
    slowest = max(recovered.values()) if recovered else float("nan")
    return dict(scenario="SecantusDB restarted: not ready, then recovered without a restart", passed=ok,
                figures=f"not ready: {len(not_ready)}/{len(SERVICE_INSTANCES)}; ready again: {len(recovered)}/{len(SERVICE_INSTANCES)} "
                        f"(slowest {slowest:.1f} s after the database); same processes: {same}; signup + profile after: {bool(serves)}",
                detail="")


def chat_replica_killed(stack, messages):
    """Ada's socket is on chat-1 (ip_hash), Bob's on chat-2. chat-1 is killed: Ada reconnects
    through the gateway to chat-2, hears Bob again, and her history has every message Bob's
    sends were acknowledged for, including those sent while she was away."""
    a, b, chat = connected_pair(stack, "replica", (address_for_instance(0, 2), address_for_instance(1, 2)))
    ada = a.socket("websocket", reconnection=True)
    reconnected = threading.Event()
    ada.on("connect", lambda: reconnected.set())
    bob = b.socket("websocket")
    try:
        for client in (ada, bob):
            expect(client.call("joinChat", {"chatId": chat}, timeout=10)["ok"], "joining the chat")
        acknowledged = []

        def send(text):
            reply = bob.call("sendMessage", {"chatId": chat, "text": text}, timeout=10)
            if reply.get("ok"):
                acknowledged.append(text)

        for i in range(messages):
            send(f"before {i}")
        reconnected.clear()
        stack.kill("chat-1")
        for i in range(messages):
            send(f"while away {i}")
        back = reconnected.wait(30)
        if back:
            expect(ada.call("joinChat", {"chatId": chat}, timeout=10)["ok"], "joining again")
        for i in range(messages):
            send(f"after {i}")
        live = back and eventually("the last message heard live", lambda: any(m["text"] == f"after {messages - 1}" for m in ada.heard), 10)
        history = history_texts(a, chat)
        missing = [t for t in acknowledged if t not in history]
    finally:
        ada.disconnect()
        bob.disconnect()
        stack.restart("chat-1")
    ok = back and bool(live) and not missing and len(acknowledged) == 3 * messages
    return dict(scenario="one chat replica kill -9: clients reconnect to the other, no stored message missed", passed=ok,
                figures=f"reconnected: {back}; {len(acknowledged)}/{3 * messages} sends acknowledged; heard live after: {bool(live)}; "
                        f"missing from history: {len(missing)}",
                detail=", ".join(missing[:5]))


def run(stack, reduced):
    signups_count = 60 if reduced else 500
    scenarios = [
        ("RabbitMQ kill -9 during signups", lambda: rabbitmq_killed_during_signups(stack, signups_count)),
        ("profile service killed while events queue", lambda: profile_killed_while_events_queue(stack, 20 if reduced else 100)),
        ("request service killed between write and publish", lambda: request_killed_between_write_and_publish(stack)),
        ("Redis stopped during traffic", lambda: redis_stopped_during_traffic(stack, 5 if reduced else 30)),
        ("SecantusDB restarted", lambda: mongo_restarted(stack)),
        ("one chat replica killed", lambda: chat_replica_killed(stack, 5 if reduced else 20)),
    ]
    rows = []
    for name, scenario in scenarios:
        started = time.time()
        try:
            row = scenario()
        except Exception as error:  # noqa: BLE001 - a scenario that breaks is a failed row, and the run goes on
            row = dict(scenario=name, passed=False, figures="", detail=f"{type(error).__name__}: {error}"[:400])
        row["seconds"] = round(time.time() - started, 1)
        rows.append(row)
    return rows
