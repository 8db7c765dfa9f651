"""python-socketio doing the fan-out the Swift side does (no storage): `join {room}` puts
the socket in the room; `send {room, ...}` goes to everyone in the room as `message`.

usage: python_fanout_server.py PORT
"""
import sys

import socketio
from aiohttp import web

sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=[])
app = web.Application()
sio.attach(app)


@sio.on("join")
async def join(sid, data):
    await sio.enter_room(sid, data["room"])
    return True


@sio.on("send")
async def send(sid, data):
    await sio.emit("message", data, room=data["room"])


web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
