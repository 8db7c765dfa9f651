"""A TLS client for the gateway's TLS tests (Python's ssl, verifying against a test CA).

usage: tls_client.py PORT SERVER_NAME CA_FILE get PATH
       tls_client.py PORT SERVER_NAME CA_FILE across-reload FLAG PATH
       tls_client.py PORT SERVER_NAME CA_FILE max-version TLSv1_1|TLSv1_2|TLSv1_3
Prints one JSON object. `get`: status, headers, the served certificate's serial, the TLS
version. `across-reload`: a request on a keep-alive connection, then FLAG.ready is written
and FLAG waited for (30 s at most: the test reloads meanwhile), a second request on the
same connection, and one on a new connection; each with its certificate's serial.
`max-version`: whether a handshake no newer than that version succeeds.
"""
import http.client
import json
import os
import socket
import ssl
import sys
import time

from cryptography import x509

port, server_name, ca, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


def context(maximum=None):
    c = ssl.create_default_context(cafile=ca)
    if maximum:
        c.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        c.maximum_version = getattr(ssl.TLSVersion, maximum)
        c.set_ciphers("ALL:@SECLEVEL=0")  # let the client offer old ones: the server must refuse
    return c


class Connection(http.client.HTTPSConnection):
    """Connects to 127.0.0.1 whatever the name, and asks for SERVER_NAME (SNI and the Host)."""

    def connect(self):
        raw = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.sock = self._context.wrap_socket(raw, server_hostname=server_name)


def serial(connection):
    der = connection.sock.getpeercert(binary_form=True)
    return format(x509.load_der_x509_certificate(der).serial_number, "x")


def get(connection, path):
    connection.request("GET", path, headers={"Host": server_name})
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    return {"status": response.status, "headers": {k.lower(): v for k, v in response.getheaders()}, "body": body,
            "serial": serial(connection), "version": connection.sock.version()}


if mode == "get":
    print(json.dumps(get(Connection(server_name, port, context=context()), sys.argv[5])))
elif mode == "across-reload":
    flag, path = sys.argv[5], sys.argv[6]
    kept = Connection(server_name, port, context=context())
    first = get(kept, path)
    open(flag + ".ready", "w").close()
    deadline = time.time() + 30
    while not os.path.exists(flag):
        if time.time() > deadline:
            sys.exit("the test never reloaded")
        time.sleep(0.05)
    second = get(kept, path)
    fresh = get(Connection(server_name, port, context=context()), path)
    print(json.dumps({"first": first, "second": second, "fresh": fresh}))
elif mode == "max-version":
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=20) as raw:
            with context(sys.argv[5]).wrap_socket(raw, server_hostname=server_name) as tls:
                print(json.dumps({"handshake": "ok", "version": tls.version()}))
    except (ssl.SSLError, ConnectionError) as error:
        print(json.dumps({"handshake": "refused", "reason": str(error)}))
