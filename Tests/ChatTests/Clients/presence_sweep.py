"""A dead replica's users go offline, for ChatTests.

usage: presence_sweep.py URL TOKEN_ADA BOB_ID TIMEOUT
Ada listens; prints when (epoch seconds) she heard Bob go offline, or null, as JSON.
"""
import json
import sys
import threading
import time

import socketio

url, token_ada, bob_id, timeout = *sys.argv[1:4], float(sys.argv[4])
heard = {}
offline = threading.Event()
ada = socketio.Client(reconnection=False)


@ada.on("presence")
def on_presence(data):
    if data.get("userId") == bob_id and data.get("online") is False:
        heard["offlineAt"] = time.time()
        offline.set()


ada.connect(url, transports=["websocket"], auth={"token": token_ada}, wait_timeout=5)
offline.wait(timeout)
ada.disconnect()
print(json.dumps({"offlineAt": heard.get("offlineAt")}))
