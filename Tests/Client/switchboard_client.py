"""A client of Switchboard as a client of the reference system drives it: HTTP through the
gateway URL and python-socketio at /chat/socket.io/. Shared by the end-to-end client (e2e.py)
and the stress run. Each simulated user speaks from an address of its own (X-Forwarded-For,
which the gateway believes from a trusted proxy such as 127.0.0.1), so per-address rate
limits apply per user; a 429 is waited out."""
import threading
import os
import time
import uuid

import requests
import socketio


class Failure(Exception):
    pass


def expect(condition, what):
    if not condition:
        raise Failure(what)


# How long a service may take to catch up on an event: longer where a run crashes the
# broker on purpose (scripts/compose-e2e), so the events wait out its restart.
EVENT_WAIT_SECONDS = float(os.environ.get("SWITCHBOARD_EVENT_WAIT_SECONDS", "20"))


def eventually(what, attempt, seconds=None):
    """Events make other services catch up a moment later."""
    seconds = seconds or EVENT_WAIT_SECONDS
    deadline = time.time() + seconds
    while True:
        result = attempt()
        if result:
            return result
        if time.time() > deadline:
            raise Failure(f"{what}: not within {seconds} s")
        time.sleep(0.1)


class User:
    def __init__(self, base, name, address, run=None):
        self.base, self.name, self.address = base.rstrip("/"), name, address
        self.email = f"{name.lower()}-{run or uuid.uuid4().hex[:8]}@example.com"
        self.password = f"{name} has a long password 1"
        self.token = self.id = None
        self.session = requests.Session()

    def call(self, method, path, expected=None, wait_429=True, **kwargs):
        headers = {"X-Forwarded-For": self.address, **kwargs.pop("headers", {})}
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        kwargs.setdefault("timeout", 20)
        for _ in range(20):
            response = self.session.request(method, self.base + path, headers=headers, **kwargs)
            if response.status_code != 429 or not wait_429:
                break
            time.sleep(float(response.headers.get("Retry-After", "1")))
        if expected is not None:
            expect(response.status_code == expected,
                   f"{self.name}: {method} {path} answered {response.status_code}, expected {expected}: {response.text[:300]}")
        return response

    def json(self, method, path, expected=200, **kwargs):
        return self.call(method, path, expected, **kwargs).json()

    def signup(self):
        body = self.json("POST", "/auth/signup", 201, json={
            "firstName": self.name, "lastName": "Tester", "emailId": self.email, "password": self.password})
        self.id, self.token = body["data"]["id"], body["access_token"]
        return self

    def invite(self, other, seconds=20):
        """An invite to `other` once the request service knows them (it learns of new users
        from events, a moment after signup); its id."""
        return eventually(f"{other.name} in the request directory", lambda: self.call(
            "POST", "/request/invite/send", json={"toEmail": other.email}).json().get("data", {}).get("id"), seconds)

    def direct_chat(self, other, seconds=20):
        """The direct chat with `other` once chat knows they are connected (from the accept event); its id."""
        return eventually(f"the {self.name}-{other.name} connection in chat", lambda: (lambda r: r.status_code in (200, 201) and r.json()["_id"])(
            self.call("POST", "/chat/create-direct", json={"receiverId": other.id})), seconds)

    def socket(self, transport, reconnection=False):
        client = socketio.Client(reconnection=reconnection, reconnection_delay=0.2, reconnection_delay_max=1)
        client.heard = []
        client.arrived = threading.Condition()

        @client.on("receiveMessage")
        def on_message(message):
            with client.arrived:
                client.heard.append(message)
                client.arrived.notify_all()

        client.connect(self.base, socketio_path="/chat/socket.io/", transports=[transport], auth={"token": self.token},
                       headers={"X-Forwarded-For": self.address}, wait_timeout=10)
        return client


def wait_heard(client, text, seconds=10):
    deadline = time.time() + seconds
    with client.arrived:
        while not any(m["text"] == text for m in client.heard):
            left = deadline - time.time()
            if left <= 0:
                return False
            client.arrived.wait(left)
    return True
