"""Unread counts and read markers, for ChatTests.

usage: reading.py URL_ADA URL_BOB TOKEN_ADA TOKEN_BOB CHAT_ID
Ada (on URL_ADA) and Bob (on URL_BOB, another replica) join the chat (Bob's socket only
listens); Ada sends three messages; Bob's chat list counts them; Bob marks the chat read
over the socket, Ada's socket hears it; one more message, then Bob marks it read over
REST, twice. Prints the counts, acknowledgements and what Ada heard as JSON.
"""
import json
import sys
import threading
import urllib.error
import urllib.request

import socketio

url_ada, url_bob, token_ada, token_bob, chat_id = sys.argv[1:6]
seen = {"adaHeard": []}
heard = threading.Event()


def rest(method, url, token, path):
    request = urllib.request.Request(url + path, method=method, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def unread(url, token):
    return [c.get("unreadCount") for c in rest("GET", url, token, "/my-chats") if c["_id"] == chat_id]


ada, bob = socketio.Client(reconnection=False), socketio.Client(reconnection=False)


@ada.on("messagesRead")
def on_read(data):
    seen["adaHeard"].append(data)
    heard.set()


ada.connect(url_ada, transports=["websocket"], auth={"token": token_ada}, wait_timeout=5)
bob.connect(url_bob, transports=["websocket"], auth={"token": token_bob}, wait_timeout=5)
ada.call("joinChat", {"chatId": chat_id}, timeout=5)
seen["bobJoin"] = bob.call("joinChat", {"chatId": chat_id}, timeout=5)["ok"]
for text in ("one", "two", "three"):
    ada.call("sendMessage", {"chatId": chat_id, "text": text}, timeout=5)
seen["unreadBefore"] = {"bob": unread(url_bob, token_bob), "ada": unread(url_ada, token_ada)}
seen["socketMark"] = bob.call("markRead", {"chatId": chat_id}, timeout=5)
seen["adaHeardIt"] = heard.wait(5)
seen["unreadAfterMark"] = unread(url_bob, token_bob)
ada.call("sendMessage", {"chatId": chat_id, "text": "four"}, timeout=5)
seen["unreadAfterFour"] = unread(url_bob, token_bob)
seen["restMark"] = rest("POST", url_bob, token_bob, f"/messages/{chat_id}/read")
seen["restMarkAgain"] = rest("POST", url_bob, token_bob, f"/messages/{chat_id}/read")
seen["unreadAtEnd"] = unread(url_bob, token_bob)
seen["readBy"] = [m["readBy"] for m in rest("GET", url_ada, token_ada, f"/messages/{chat_id}")]
ada.disconnect()
bob.disconnect()
print(json.dumps(seen))
