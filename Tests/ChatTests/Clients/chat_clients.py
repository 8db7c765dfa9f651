"""Real-time chat through python-socketio, for ChatTests.

usage: chat_clients.py TRANSPORTS URL_ADA URL_BOB TOKEN_ADA TOKEN_BOB TOKEN_EVE CHAT_ID
Ada (on URL_ADA) and Bob (on URL_BOB, maybe another replica) join the chat; Ada sends a
message with an acknowledgement and Bob should receive it; Eve, not a participant, tries
to join and to send; a forged token tries to connect. Prints what everyone saw as JSON.
"""
import json
import sys
import threading

import socketio

transports, url_ada, url_bob, token_ada, token_bob, token_eve, chat_id = sys.argv[1].split(","), *sys.argv[2:8]
seen = {}
received = threading.Event()


def client():
    return socketio.Client(reconnection=False)


ada, bob, eve = client(), client(), client()


@bob.on("receiveMessage")
def on_message(message):
    seen["bobReceived"] = message
    received.set()


own = threading.Event()


@ada.on("receiveMessage")
def on_own_message(message):
    seen["adaReceivedOwn"] = message
    own.set()


ada.connect(url_ada, transports=transports, auth={"token": token_ada}, wait_timeout=5)
bob.connect(url_bob, transports=transports, auth={"token": token_bob}, wait_timeout=5)
seen["adaJoin"] = ada.call("joinChat", {"chatId": chat_id}, timeout=5)
seen["bobJoin"] = bob.call("joinChat", chat_id, timeout=5)
seen["adaSent"] = ada.call("sendMessage", {"chatId": chat_id, "text": "  hello bob  "}, timeout=5)
seen["bobGotIt"] = received.wait(5)
own.wait(5)
seen["emptyText"] = ada.call("sendMessage", {"chatId": chat_id, "text": "   "}, timeout=5)
seen["operatorId"] = ada.call("sendMessage", {"chatId": {"$ne": None}, "text": "x"}, timeout=5)

eve_error = threading.Event()


@eve.on("error")
def on_error(message):
    seen["eveError"] = message
    eve_error.set()


eve.connect(url_ada, transports=transports, auth={"token": token_eve}, wait_timeout=5)
seen["eveJoin"] = eve.call("joinChat", {"chatId": chat_id}, timeout=5)
eve_error.wait(5)
seen["eveSend"] = eve.call("sendMessage", {"chatId": chat_id, "text": "let me in"}, timeout=5)

forged = client()


@forged.on("connect_error")
def on_refused(data):
    seen["forgedError"] = data


try:
    forged.connect(url_ada, transports=transports, auth={"token": token_ada[:-4] + "AAAA"}, wait_timeout=5)
    seen["forged"] = "connected"
except socketio.exceptions.ConnectionError as error:
    seen["forged"] = str(error)

for c in (ada, bob, eve):
    c.disconnect()
print(json.dumps(seen))
