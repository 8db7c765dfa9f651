"""Checks docker-compose.yml and deploy/k8s/ against the local stack, for DeploymentTests
(CI has no Docker engine or cluster), and that the README documents every environment
variable the code reads and every gateway.conf setting. Prints one JSON object: the problems found (none
is a pass), how many checks ran, and the gateway configurations the files hold, for the
Swift side to parse with the gateway's own parser.

usage: check_deployment.py REPOSITORY_ROOT
"""
import glob
import json
import os
import re
import sys

import yaml

root = sys.argv[1]
problems = []
checks = 0


def check(condition, problem):
    global checks
    checks += 1
    if not condition:
        problems.append(problem)


def read(path):
    with open(os.path.join(root, path), encoding="utf-8") as f:
        return f.read()


# What the code reads: every quoted VARIABLE_NAME in Sources, and <SERVICE>_PORT.
source_text = "".join(read(p) for p in glob.glob("Sources/**/*.swift", root_dir=root, recursive=True))
variables = set(re.findall(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"', source_text))
processes = ["auth", "profile", "request", "chat", "gateway"]
variables |= {f"{p.upper()}_PORT" for p in processes[:4]}

# The local stack: what scripts/up starts, and on which ports.
up = read("scripts/up")
local_kinds = set(re.findall(r'servers" start (\w+) up-', up)) | set(re.findall(r'"(\w+) \d{4}"', up))
local_ports = {kind: int(port) for kind, port in re.findall(r'"(\w+) (\d{4})"', up)}
local_ports["auth"] = int(re.search(r"start auth up-auth (\d+)", up).group(1))
local_ports["gateway"] = int(re.search(r"start gateway up-gateway (\d+)", up).group(1))
check(local_kinds == {"mongo", "redis", "rabbitmq", *processes}, f"scripts/up starts {sorted(local_kinds)}")

# --- docker-compose.yml -------------------------------------------------------------------
compose_text = read("docker-compose.yml")
compose = yaml.safe_load(compose_text)
services = compose.get("services", {})
check(set(services) == local_kinds, f"compose services {sorted(services)} differ from the local stack's {sorted(local_kinds)}")
for anchor in set(re.findall(r"&([\w-]+)", compose_text)):
    check(f"*{anchor}" in compose_text, f"compose anchor &{anchor} is never used")
for key in compose:
    check(key in ("services", "volumes") or (key.startswith("x-") and f"&" in compose_text), f"compose has an unexpected top-level {key}")
declared_volumes = set((compose.get("volumes") or {}).keys())
used_volumes = set()
for name, service in services.items():
    for volume in service.get("volumes", []):
        used_volumes.add(volume.split(":")[0])
    for target, condition in (service.get("depends_on") or {}).items():
        check(target in services, f"{name} depends on unknown {target}")
        if condition.get("condition") == "service_healthy":
            check("healthcheck" in services.get(target, {}), f"{name} waits for {target} to be healthy, which has no healthcheck")
    check("healthcheck" in service, f"{name} has no healthcheck")
    if name in processes:
        check(service.get("command") == [name], f"{name} runs {service.get('command')}")
        check(service.get("build", {}).get("dockerfile") == "deploy/Dockerfile", f"{name} is not built from deploy/Dockerfile")
        environment = service.get("environment") or {}
        for variable in environment:
            check(variable in variables, f"compose sets {variable} for {name}, which no code reads")
        port = local_ports[name]
        if name != "gateway":
            check(environment.get(f"{name.upper()}_PORT") == str(port), f"{name} listens on {environment.get(f'{name.upper()}_PORT')} in compose, {port} locally")
        check(f"127.0.0.1:{port}/" in " ".join(service["healthcheck"]["test"]), f"{name}'s healthcheck does not ask port {port}")
check(declared_volumes == used_volumes, f"compose volumes declared {sorted(declared_volumes)}, used {sorted(used_volumes)}")
check(services["gateway"].get("ports") == [f"127.0.0.1:{local_ports['gateway']}:{local_ports['gateway']}"], "the gateway is not published on 127.0.0.1:3000")
for name, service in services.items():
    check(service.get("restart") in ("unless-stopped", "always"), f"{name} is not restarted when it crashes (restart: {service.get('restart')})")

# The offline override (scripts/compose-e2e) swaps only images and networking: every service
# on host networking with an offline image, the names resolving to 127.0.0.1, and besides
# that only listen addresses, the mongo health check and the gateway's loopback config.
override = yaml.safe_load(read("deploy/offline/docker-compose.offline.yml"))
check(set(override["services"]) == set(services), f"the offline override covers {sorted(override['services'])}")
networking_variables = {"SWITCHBOARD_HOST", "RABBITMQ_NODENAME", "RABBITMQ_NODE_IP_ADDRESS", "ERL_EPMD_ADDRESS",
                        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "RABBITMQ_CTL_ERL_ARGS"}
for name, service in override["services"].items():
    check(service.get("network_mode") == "host", f"offline {name} is not on host networking")
    check(str(service.get("image", "")).startswith("switchboard-offline/"), f"offline {name} runs {service.get('image')}")
    check(sorted(service.get("extra_hosts", [])) == sorted(f"{n}:127.0.0.1" for n in services if n != "gateway"),
          f"offline {name} does not resolve every service name to 127.0.0.1")
    allowed = {"image", "network_mode", "extra_hosts", "environment"} | {
        "mongo": {"command", "healthcheck"}, "redis": {"command"}, "gateway": {"volumes"}}.get(name, set())
    check(set(service) <= allowed, f"offline {name} overrides {sorted(set(service) - allowed)}, more than images and networking")
    for variable in service.get("environment") or {}:
        check(variable in networking_variables, f"offline {name} sets {variable}, which is not networking")
redis_command = override["services"]["redis"]["command"]
check(redis_command[:len(services["redis"]["command"])] == services["redis"]["command"] and redis_command[-2:] == ["--bind", "127.0.0.1"],
      "the offline redis command is not the compose one bound to 127.0.0.1")
check(override["services"]["gateway"]["volumes"] == ["./gateway.conf:/app/gateway.conf:ro"], "the offline gateway does not run the local gateway.conf")

# The image: what the Dockerfile copies exists; the container gateway.conf is the local one
# with container names and every interface.
dockerfile = read("deploy/Dockerfile")
for source in re.findall(r"^COPY (?!--from)(\S+) ", dockerfile, re.M):
    check(os.path.exists(os.path.join(root, source)), f"deploy/Dockerfile copies {source}, which does not exist")
local_conf, container_conf = read("gateway.conf"), read("deploy/gateway.conf")


def meaning(text, hosts):
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    normalized = []
    for line in lines:
        for host, local in hosts.items():
            line = line.replace(f"upstream {host}:", f"upstream {local}:")
        normalized.append(line.replace("listen 0.0.0.0:", "listen 127.0.0.1:"))
    return normalized


container_hosts = {name: "127.0.0.1" for name in processes[:4]}
check(meaning(local_conf, {}) == meaning(container_conf, container_hosts),
      "deploy/gateway.conf says more than gateway.conf with container names")
for host, port in re.findall(r"upstream (\w+):(\d+)", container_conf):
    check(host in services and local_ports.get(host) == int(port), f"deploy/gateway.conf sends to {host}:{port}, not a compose service on its port")

# --- deploy/k8s ----------------------------------------------------------------------------
documents = []
for path in sorted(glob.glob("deploy/k8s/*.yaml", root_dir=root)):
    for document in yaml.safe_load_all(read(path)):
        if document:
            documents.append((path, document))
by_kind = {}
for path, d in documents:
    check(all(k in d for k in ("apiVersion", "kind", "metadata")) and d["metadata"].get("name"), f"{path}: a document without apiVersion, kind or name")
    if d["kind"] != "Namespace":
        check(d["metadata"].get("namespace") == "switchboard", f"{path}: {d['kind']} {d['metadata']['name']} is outside the switchboard namespace")
    by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
workloads = {**by_kind.get("Deployment", {}), **by_kind.get("StatefulSet", {})}
check(set(workloads) == set(processes), f"workloads {sorted(workloads)} are not the five processes")
config_maps, referenced_maps, referenced_secrets = by_kind.get("ConfigMap", {}), set(), set()
deploy_readme = read("deploy/README.md")
for name, w in workloads.items():
    spec = w["spec"]
    labels = spec["template"]["metadata"]["labels"]
    check(all(labels.get(k) == v for k, v in spec["selector"]["matchLabels"].items()), f"{name}'s selector does not match its pods")
    check(spec.get("replicas", 1) >= 2, f"{name} runs fewer than two replicas")
    volumes = {v["name"]: v for v in spec["template"]["spec"].get("volumes", [])}
    for container in spec["template"]["spec"]["containers"]:
        check(container.get("args") == [name], f"{name} runs {container.get('args')}")
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        check(ports.get("http") == local_ports[name], f"{name} listens on {ports.get('http')}, {local_ports[name]} locally")
        requests = container.get("resources", {}).get("requests", {})
        check("cpu" in requests and "memory" in requests, f"{name} has no cpu and memory requests")
        for probe, path in (("readinessProbe", "/health" if name == "gateway" else "/ready"), ("livenessProbe", "/health")):
            get = container.get(probe, {}).get("httpGet", {})
            check(get.get("path") == path and get.get("port") == local_ports[name], f"{name}'s {probe} is not {path} on {local_ports[name]}")
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                referenced_maps.add(source["configMapRef"]["name"])
            if "secretRef" in source:
                referenced_secrets.add(source["secretRef"]["name"])
        for variable in container.get("env", []):
            check(variable["name"] in variables, f"{name} sets {variable['name']}, which no code reads")
        for mount in container.get("volumeMounts", []):
            check(mount["name"] in volumes, f"{name} mounts an undeclared volume {mount['name']}")
    for volume in volumes.values():
        if "configMap" in volume:
            referenced_maps.add(volume["configMap"]["name"])
        if "secret" in volume:
            referenced_secrets.add(volume["secret"]["secretName"])
for name in referenced_maps:
    check(name in config_maps, f"ConfigMap {name} is used but not defined")
for name in config_maps:
    check(name in referenced_maps, f"ConfigMap {name} is defined but not used")
for name in referenced_secrets:
    check(f"create secret generic {name}" in deploy_readme, f"Secret {name} is used but deploy/README.md does not say how to create it")
for variable in config_maps["switchboard-env"]["data"]:
    check(variable in variables, f"switchboard-env sets {variable}, which no code reads")
services_k8s = by_kind.get("Service", {})
for name, s in services_k8s.items():
    target = workloads.get(s["spec"]["selector"].get("app.kubernetes.io/name"))
    check(target is not None, f"Service {name} selects no workload")
    if target and target["kind"] == "StatefulSet":
        check(target["spec"]["serviceName"] == name and s["spec"].get("clusterIP") == "None", f"{name} should be the headless Service of its StatefulSet")
cluster_conf = config_maps["gateway-conf"]["data"]["gateway.conf"]
for host, port in re.findall(r"([\w.-]+):(\d+)", " ".join(re.findall(r"upstream ([^;]+);", cluster_conf))):
    service_name = host.split(".")[-1]
    check(service_name in services_k8s and local_ports.get(service_name) == int(port), f"the cluster gateway.conf sends to {host}:{port}, not a Service on its port")
    if "." in host:
        pod = host.split(".")[0]
        replicas = workloads[service_name]["spec"]["replicas"]
        check(pod in {f"{service_name}-{i}" for i in range(replicas)}, f"the cluster gateway.conf names {pod}, which is not a pod of {service_name}")

# --- the README's configuration reference ---------------------------------------------------
readme = read("README.md")
# Inline code outside the fenced blocks.
spans = " ".join(re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", readme, flags=re.S)))
for variable in sorted(variables):
    check(re.search(rf"\b{variable}\b", spans), f"README does not document the variable {variable}")
parse_source = read("Sources/Gateway/Config/GatewayConfig+parse.swift")
for directive in sorted(set(re.findall(r'case "([a-z_]+)"', parse_source)) - {"on", "off"}):
    check(re.search(rf"\b{directive}\b", spans), f"README does not document the gateway.conf setting {directive}")

print(json.dumps({"problems": problems, "checks": checks,
                  "gatewayConfigs": {"deploy/gateway.conf": container_conf, "deploy/k8s gateway-conf": cluster_conf}}))
