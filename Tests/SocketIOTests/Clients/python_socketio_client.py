"""A python-socketio client session against the conformance server, for SocketIOTests.

usage: python_socketio_client.py URL TRANSPORTS [PATH [CA_FILE]]   (TRANSPORTS: polling | websocket | polling,websocket;
       PATH: the Socket.IO path, socket.io unless a gateway puts it elsewhere;
       CA_FILE: for an https URL, the certificate authority to trust — polling and wss alike)
Prints one JSON object: what the client saw. Exits non-zero if anything timed out.
"""
import json
import sys
import threading

import requests
import socketio

url, transports = sys.argv[1], sys.argv[2].split(",")
path = sys.argv[3] if len(sys.argv) > 3 else "socket.io"
seen = {"auth": None, "customAuth": None, "back": None, "ack": None, "transport": None}
back = threading.Event()
auths = threading.Event()
custom = threading.Event()

session = requests.Session()
if len(sys.argv) > 4:
    session.verify = sys.argv[4]  # engine.io passes it to the WebSocket too (ca_certs)
    session.trust_env = False  # else REQUESTS_CA_BUNDLE, where set, wins over it
sio = socketio.Client(reconnection=False, http_session=session)


@sio.on("auth")
def on_auth(data):
    seen["auth"] = data
    auths.set()


@sio.on("auth", namespace="/custom")
def on_custom_auth(data):
    seen["customAuth"] = data
    custom.set()


@sio.on("message-back")
def on_back(*args):
    seen["back"] = [list(a) if isinstance(a, (bytes, bytearray)) else a for a in args]
    back.set()


sio.connect(url, transports=transports, auth={"token": "abc"}, namespaces=["/", "/custom"], socketio_path=path, wait_timeout=5)
ok = auths.wait(5) and custom.wait(5)
sio.emit("message", (1, "2", {"3": [True]}, b"\x01\x02\x03"))
ok = back.wait(5) and ok
seen["ack"] = list(sio.call("message-with-ack", ("x", {"y": None}), timeout=5))
seen["transport"] = sio.transport()
sio.disconnect()
print(json.dumps(seen))
sys.exit(0 if ok else 1)
