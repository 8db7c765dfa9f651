"""Typing indicators, flood limits and the cap on sockets per user, for ChatTests.

usage: typing_and_floods.py URL_ADA URL_BOB TOKEN_ADA TOKEN_BOB TOKEN_EVE CHAT_ID FLOOD
Ada (on URL_ADA) and Bob (on URL_BOB, another replica) join the chat. Ada says she is
typing three times and then stops: what Bob and Ada hear. Eve, not a participant, says
she is typing in the chat. A second socket of Ada's sends FLOOD messages as fast as it
can: how many were acknowledged as stored and how many refused. Then Ada opens sockets
until one is refused, closes one and tries again. Prints what everyone saw as JSON.
"""
import json
import sys
import threading
import time

import socketio

url_ada, url_bob, token_ada, token_bob, token_eve, chat_id, flood = *sys.argv[1:7], int(sys.argv[7])
seen = {"bobHeard": [], "adaHeard": []}
lock = threading.Lock()


def client():
    return socketio.Client(reconnection=False)


ada, bob, eve = client(), client(), client()
for name, c in (("bobHeard", bob), ("adaHeard", ada)):
    for event in ("typing", "stopTyping"):
        def heard(data, name=name, event=event):
            with lock:
                seen[name].append([event, data])
        c.on(event, heard)

ada.connect(url_ada, transports=["websocket"], auth={"token": token_ada}, wait_timeout=5)
bob.connect(url_bob, transports=["websocket"], auth={"token": token_bob}, wait_timeout=5)
seen["joins"] = [ada.call("joinChat", {"chatId": chat_id}, timeout=5)["ok"], bob.call("joinChat", {"chatId": chat_id}, timeout=5)["ok"]]
seen["typingAcks"] = [ada.call("typing", {"chatId": chat_id}, timeout=5)["ok"] for _ in range(3)]
time.sleep(1)
seen["stopAck"] = ada.call("stopTyping", {"chatId": chat_id}, timeout=5)["ok"]
time.sleep(1)

eve.connect(url_ada, transports=["websocket"], auth={"token": token_eve}, wait_timeout=5)
seen["eveTyping"] = eve.call("typing", {"chatId": chat_id}, timeout=5)

flooder = client()
flooder.connect(url_ada, transports=["websocket"], auth={"token": token_ada}, wait_timeout=5)
flooder.call("joinChat", {"chatId": chat_id}, timeout=5)
answers = []
done = threading.Event()


def answered(reply):
    with lock:
        answers.append(reply)
        if len(answers) == flood:
            done.set()


for i in range(flood):
    flooder.emit("sendMessage", {"chatId": chat_id, "text": f"flood {i}"}, callback=answered)
done.wait(20)
seen["floodStored"] = sum(1 for a in answers if a.get("ok"))
seen["floodRefused"] = sorted({a["error"]["code"] for a in answers if not a.get("ok")})
seen["floodRefusedCount"] = sum(1 for a in answers if not a.get("ok"))

# Ada has two sockets now; open more until one is refused.
extra, refusal = [], None
for _ in range(10):
    c = client()

    @c.on("connect_error")
    def refused(data):
        seen["refusalMessage"] = data.get("message") if isinstance(data, dict) else data

    try:
        c.connect(url_ada, transports=["websocket"], auth={"token": token_ada}, wait_timeout=5)
        extra.append(c)
    except socketio.exceptions.ConnectionError as error:
        refusal = str(error)
        break
seen["adaSockets"] = 2 + len(extra)
seen["refusal"] = refusal
extra[0].disconnect() if extra else ada.disconnect()
time.sleep(0.5)
again = client()
try:
    again.connect(url_ada, transports=["websocket"], auth={"token": token_ada}, wait_timeout=5)
    seen["afterClosingOne"] = "connected"
    again.disconnect()
except socketio.exceptions.ConnectionError as error:
    seen["afterClosingOne"] = str(error)

for c in [ada, bob, eve, flooder] + extra[1:]:
    try:
        c.disconnect()
    except Exception:
        pass
print(json.dumps(seen))
