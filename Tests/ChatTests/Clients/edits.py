"""Editing and deleting messages over REST while sockets listen, for ChatTests.

usage: edits.py URL_ADA URL_BOB TOKEN_ADA TOKEN_BOB TOKEN_EVE CHAT_ID
Ada (on URL_ADA) and Bob (on URL_BOB, another replica) join the chat; Ada sends two
messages. Bob and Eve (not a participant) try to edit Ada's second message, Ada edits
it; Bob tries to delete it, Ada deletes it (twice). Prints the statuses, what the sockets
heard, the history and Bob's chat list as JSON.
"""
import json
import sys
import threading
import urllib.error
import urllib.request

import socketio

url_ada, url_bob, token_ada, token_bob, token_eve, chat_id = sys.argv[1:7]
seen = {"bobHeard": [], "adaHeard": []}
lock = threading.Lock()
heard_both = threading.Event()


def rest(method, url, token, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


ada, bob = socketio.Client(reconnection=False), socketio.Client(reconnection=False)
for name, c in (("bobHeard", bob), ("adaHeard", ada)):
    for event in ("messageEdited", "messageDeleted"):
        def heard(data, name=name, event=event):
            with lock:
                seen[name].append([event, data])
                if name == "bobHeard" and len(seen[name]) == 2:
                    heard_both.set()
        c.on(event, heard)

ada.connect(url_ada, transports=["websocket"], auth={"token": token_ada}, wait_timeout=5)
bob.connect(url_bob, transports=["websocket"], auth={"token": token_bob}, wait_timeout=5)
ada.call("joinChat", {"chatId": chat_id}, timeout=5)
bob.call("joinChat", {"chatId": chat_id}, timeout=5)
first = ada.call("sendMessage", {"chatId": chat_id, "text": "first"}, timeout=5)["data"]["_id"]
second = ada.call("sendMessage", {"chatId": chat_id, "text": "second"}, timeout=5)["data"]["_id"]
path = f"/messages/{chat_id}/{second}"

seen["bobEdit"] = rest("PATCH", url_bob, token_bob, path, {"text": "mine now"})[0]
seen["eveEdit"] = rest("PATCH", url_ada, token_eve, path, {"text": "mine now"})[0]
seen["emptyEdit"] = rest("PATCH", url_ada, token_ada, path, {"text": "   "})[0]
seen["wrongType"] = rest("PATCH", url_ada, token_ada, path, {"text": {"$ne": None}})[0]
seen["otherChatsMessage"] = rest("PATCH", url_ada, token_ada, f"/messages/{chat_id}/{'0' * 24}", {"text": "x"})[0]
seen["adaEdit"] = rest("PATCH", url_ada, token_ada, path, {"text": "  second, edited  "})
seen["bobDelete"] = rest("DELETE", url_bob, token_bob, path)[0]
seen["adaDelete"] = rest("DELETE", url_ada, token_ada, path)[0]
seen["adaDeleteAgain"] = rest("DELETE", url_ada, token_ada, path)[0]
seen["bobHeardBoth"] = heard_both.wait(5)
seen["history"] = [m["text"] for m in rest("GET", url_bob, token_bob, f"/messages/{chat_id}")[1]]
chats = rest("GET", url_bob, token_bob, "/my-chats")[1]
seen["preview"] = (chats[0].get("lastMessagePreview") or {}).get("text") if chats else None
seen["ids"] = [first, second]
ada.disconnect()
bob.disconnect()
print(json.dumps(seen))
