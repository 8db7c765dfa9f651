"""Presence across replicas, for ChatTests.

usage: presence.py URL_ADA URL_BOB TOKEN_ADA TOKEN_BOB TOKEN_EVE BOB_ID ROUNDS
Ada and Eve (not connected to Bob) listen on URL_ADA. Bob comes online on URL_BOB and
goes offline, ROUNDS times: how long until Ada heard each. Then Bob with two tabs, one on
each replica: closing one says nothing, closing both says offline. Prints the latencies,
what Ada and Eve heard, and Ada's presence reads (REST) as JSON.
"""
import json
import sys
import threading
import time
import urllib.request

import socketio

url_ada, url_bob, token_ada, token_bob, token_eve, bob_id, rounds = *sys.argv[1:7], int(sys.argv[7])
seen = {"latencies": [], "eveHeard": []}
lock = threading.Lock()
events = []
arrived = threading.Condition(lock)


def client():
    return socketio.Client(reconnection=False)


ada, eve = client(), client()


@ada.on("presence")
def on_presence(data):
    with arrived:
        events.append((time.monotonic(), data))
        arrived.notify_all()


@eve.on("presence")
def on_eve_presence(data):
    seen["eveHeard"].append(data)


def wait_for(online, since, timeout=5.0):
    """The time Ada heard Bob go `online` after `since`, or None."""
    deadline = time.monotonic() + timeout
    with arrived:
        while True:
            for at, data in events:
                if at >= since and data.get("userId") == bob_id and data.get("online") is online:
                    return at
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            arrived.wait(left)


def bob_events_since(since):
    with lock:
        return [d for at, d in events if at >= since and d.get("userId") == bob_id]


def presence_read():
    request = urllib.request.Request(url_ada + "/presence", headers={"Authorization": "Bearer " + token_ada})
    with urllib.request.urlopen(request, timeout=10) as response:
        return {p["userId"]: p["online"] for p in json.loads(response.read())}.get(bob_id)


ada.connect(url_ada, transports=["websocket"], auth={"token": token_ada}, wait_timeout=5)
eve.connect(url_ada, transports=["websocket"], auth={"token": token_eve}, wait_timeout=5)
seen["readBefore"] = presence_read()
for _ in range(rounds):
    bob = client()
    start = time.monotonic()
    bob.connect(url_bob, transports=["websocket"], auth={"token": token_bob}, wait_timeout=5)
    heard = wait_for(True, start)
    seen["latencies"].append(None if heard is None else heard - start)
    start = time.monotonic()
    bob.disconnect()
    heard = wait_for(False, start)
    seen["latencies"].append(None if heard is None else heard - start)

# Two tabs, one on each replica: one user.
tab1, tab2 = client(), client()
start = time.monotonic()
tab1.connect(url_bob, transports=["websocket"], auth={"token": token_bob}, wait_timeout=5)
seen["tab1Online"] = wait_for(True, start) is not None
mark = time.monotonic()
tab2.connect(url_ada, transports=["websocket"], auth={"token": token_bob}, wait_timeout=5)
time.sleep(0.3)  # the second tab's arrival reaches Redis within milliseconds of its CONNECT, not before
tab1.disconnect()
time.sleep(1.5)
seen["whileOneTabLeft"] = bob_events_since(mark)
seen["readWithOneTab"] = presence_read()
start = time.monotonic()
tab2.disconnect()
seen["lastTabOffline"] = wait_for(False, start) is not None
seen["readAfter"] = presence_read()
ada.disconnect()
eve.disconnect()
print(json.dumps(seen))
