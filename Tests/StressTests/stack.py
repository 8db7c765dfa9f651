"""A Switchboard stack of its own for the stress run: SecantusDB, Redis and RabbitMQ, the four
services (chat twice) and the gateway with the repository's gateway.conf, each started by
scripts/servers under its own name in a state directory of its own, on free loopback ports.
Faults are done to it by name: kill (SIGKILL), stop, restart, pause (SIGSTOP), resume."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import pymongo
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICES = {"auth": 5000, "profile": 5001, "request": 5002, "chat": 5003}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_rabbit_port():
    """RabbitMQ also takes PORT+10000 (epmd) and PORT+20000 (distribution)."""
    for port in range(5800, 5990):
        if all(_free(p) for p in (port, port + 10000, port + 20000)):
            return port
    raise RuntimeError("no free port triple for RabbitMQ")


def _free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class Stack:
    def __init__(self, binary, chat_replicas=2):
        self.binary = os.path.abspath(binary)
        self.state = tempfile.mkdtemp(prefix="switchboard-stress-")
        self.ports = {"mongo": free_port(), "redis": free_port(), "rabbitmq": free_rabbit_port()}
        self.names = {"mongo": "mongo", "redis": "redis", "rabbitmq": "rabbitmq"}
        self.instances = {"auth": ["auth"], "profile": ["profile"], "request": ["request"],
                          "chat": [f"chat-{i + 1}" for i in range(chat_replicas)]}
        self.retired = []  # instances a rolling restart stopped: no longer expected to run
        for kind, names in self.instances.items():
            for name in names:
                self.ports[name] = free_port()
        self.ports["gateway"] = free_port()
        self.url = f"http://127.0.0.1:{self.ports['gateway']}"
        self.env = dict(os.environ, SWITCHBOARD_STATE=self.state, SWITCHBOARD_BIN=os.path.dirname(self.binary),
                        MONGO_URI=f"mongodb://127.0.0.1:{self.ports['mongo']}/", REDIS_PORT=str(self.ports["redis"]),
                        AMQP_PORT=str(self.ports["rabbitmq"]), AUTH_KEYS_DIR=os.path.join(self.state, "keys"),
                        AUTH_JWKS_URL=f"http://127.0.0.1:{self.ports['auth']}/.well-known/jwks.json",
                        GATEWAY_CONFIG=os.path.join(self.state, "gateway.conf"), LOG_LEVEL="warning",
                        # A small login allowance, so the throttle scenario reaches it with a few guesses.
                        AUTH_LOGIN_MAX_ATTEMPTS="5")

    # processes

    def servers(self, *args, check=True):
        result = subprocess.run([os.path.join(ROOT, "scripts", "servers"), *args], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if check and result.returncode != 0:
            raise RuntimeError(f"scripts/servers {' '.join(args)} failed: {result.stdout[-1500:]}")
        return result

    def start(self):
        with ThreadPoolExecutor(3) as pool:
            for future in [pool.submit(self.servers, "start", kind, name, str(self.ports[name])) for kind, name in self.names.items()]:
                future.result()
        self.write_gateway_conf()
        for kind, names in self.instances.items():
            for name in names:
                self.servers("start", kind, name, str(self.ports[name]))
        for kind, names in self.instances.items():
            for name in names:
                self.wait_ready(name)
        self.servers("start", "gateway", "gateway", str(self.ports["gateway"]))
        self.wait_answer(self.url + "/health")

    def write_gateway_conf(self):
        text = open(os.path.join(ROOT, "gateway.conf")).read()
        text = text.replace("listen 127.0.0.1:3000;", f"listen 127.0.0.1:{self.ports['gateway']};")
        text = text.replace("openapi openapi.json;", f"openapi {os.path.join(ROOT, 'openapi.json')};")
        text = text.replace("root web;", f"root {os.path.join(ROOT, 'web')};")
        for kind, port in SERVICES.items():
            upstreams = " ".join(f"127.0.0.1:{self.ports[name]}" for name in self.instances[kind])
            text = text.replace(f"upstream 127.0.0.1:{port};", f"upstream {upstreams};")
        # Exactly the local ports (a free port such as 50012 also starts with "500").
        left = [port for port in SERVICES.values() if f"127.0.0.1:{port};" in text or f"127.0.0.1:{port} " in text]
        assert not left, f"gateway.conf names service ports the stress run does not replace: {left}"
        with open(self.env["GATEWAY_CONFIG"], "w") as f:
            f.write(text)

    def add_instance(self, kind):
        """Another instance of `kind` on a free port, started and ready (not yet in the gateway's
        configuration: `retire_instance` or `reload_gateway` puts it there); its name."""
        taken = set(self.all_names())
        name = next(f"{kind}-{n}" for n in range(2, 100) if f"{kind}-{n}" not in taken)
        self.ports[name] = free_port()
        self.servers("start", kind, name, str(self.ports[name]))
        self.wait_ready(name)
        self.instances[kind].append(name)
        return name

    def retire_instance(self, name):
        """Takes `name` out of the gateway's configuration (SIGHUP); the caller stops it."""
        for names in self.instances.values():
            if name in names:
                names.remove(name)
        self.retired.append(name)
        self.reload_gateway()

    def reload_gateway(self):
        """Rewrites gateway.conf for the current instances and sends the gateway SIGHUP."""
        self.write_gateway_conf()
        os.kill(self.pid("gateway"), signal.SIGHUP)
        time.sleep(0.5)  # the reload is done on the signal; requests after it see the new upstreams

    def kill(self, name):
        self.servers("kill", name)

    def stop(self, name):
        self.servers("stop", name)

    def restart(self, name):
        self.servers("restart", name)

    def pause(self, name):
        self.servers("pause", name)

    def resume(self, name):
        self.servers("resume", name)

    def port(self, name):
        return self.ports[name]

    def ready(self, name):
        try:
            return requests.get(f"http://127.0.0.1:{self.ports[name]}/ready", timeout=3).status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self, name, seconds=60):
        deadline = time.time() + seconds
        while not self.ready(name):
            if time.time() > deadline:
                raise RuntimeError(f"{name} not ready within {seconds} s: {self.log_tail(name)}")
            time.sleep(0.2)

    def wait_answer(self, url, seconds=30):
        deadline = time.time() + seconds
        while True:
            try:
                if requests.get(url, timeout=3).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"{url} did not answer within {seconds} s")
            time.sleep(0.2)

    def pid(self, name):
        try:
            return int(open(os.path.join(self.state, name, "pid")).read().strip())
        except (OSError, ValueError):
            return None

    def alive(self, name):
        pid = self.pid(name)
        if pid is None:
            return False
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    def all_names(self):
        return list(self.names.values()) + [n for names in self.instances.values() for n in names] + ["gateway"]

    def usage(self):
        """CPU seconds so far and resident memory (MiB) of every process, by name."""
        ticks = os.sysconf("SC_CLK_TCK")
        result = {}
        for name in self.all_names():
            pids = [self.pid(name)] if self.pid(name) else []
            if name == "rabbitmq" and pids:
                pids += _children(pids[0])  # the Erlang VM's helpers (epmd excluded: not its child)
            cpu = rss = 0.0
            for pid in pids:
                try:
                    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
                    cpu += (int(fields[11]) + int(fields[12])) / ticks
                    for line in open(f"/proc/{pid}/status"):
                        if line.startswith("VmRSS:"):
                            rss += int(line.split()[1]) / 1024
                except OSError:
                    pass
            result[name] = (cpu, rss)
        return result

    def log_tail(self, name, chars=1500):
        try:
            return open(os.path.join(self.state, name, "server.log"), errors="replace").read()[-chars:]
        except OSError:
            return "(no log)"

    def mongo(self):
        return pymongo.MongoClient(self.env["MONGO_URI"], serverSelectionTimeoutMS=5000)

    def close(self):
        for name in reversed(self.all_names() + self.retired):
            self.servers("stop", name, check=False)
        shutil.rmtree(self.state, ignore_errors=True)


def _children(pid):
    try:
        return [int(p) for p in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []
