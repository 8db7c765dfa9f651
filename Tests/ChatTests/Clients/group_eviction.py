"""A member removed from a group stops hearing it at once, on every chat replica.

usage: group_eviction.py URL_ADMIN URL_MEMBERS TOKEN_ADMIN TOKEN_KEPT TOKEN_REMOVED CHAT_ID REMOVED_ID
The admin (on URL_ADMIN) and two members (on URL_MEMBERS, maybe another replica) join the
group; the admin sends "before", removes one member over REST on URL_ADMIN, and sends
"after". Prints what everyone saw as JSON.
"""
import json
import sys
import threading
import time
import urllib.error
import urllib.request

import socketio

url_admin, url_members, token_admin, token_kept, token_removed, chat_id, removed_id = sys.argv[1:8]
heard = {"kept": [], "removed": []}
got_after = threading.Event()


def member(name, token):
    c = socketio.Client(reconnection=False)

    @c.on("receiveMessage")
    def on_message(message):
        heard[name].append(message["text"])
        if name == "kept" and message["text"] == "after":
            got_after.set()

    c.connect(url_members, transports=["websocket"], auth={"token": token}, wait_timeout=5)
    return c


admin = socketio.Client(reconnection=False)
admin.connect(url_admin, transports=["websocket"], auth={"token": token_admin}, wait_timeout=5)
kept, removed = member("kept", token_kept), member("removed", token_removed)
seen = {"joins": [c.call("joinChat", {"chatId": chat_id}, timeout=5)["ok"] for c in (admin, kept, removed)]}
admin.call("sendMessage", {"chatId": chat_id, "text": "before"}, timeout=5)

request = urllib.request.Request(
    url_admin + "/remove-from-group", method="PUT",
    data=json.dumps({"chatId": chat_id, "userId": removed_id}).encode(),
    headers={"Authorization": "Bearer " + token_admin, "Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=5) as response:
    seen["removeStatus"] = response.status

admin.call("sendMessage", {"chatId": chat_id, "text": "after"}, timeout=5)
seen["keptGotAfter"] = got_after.wait(5)
time.sleep(0.5)  # time for a wrongly delivered copy to arrive too
seen["rejoin"] = removed.call("joinChat", {"chatId": chat_id}, timeout=5)
seen["heard"] = heard
for c in (admin, kept, removed):
    c.disconnect()
print(json.dumps(seen))
