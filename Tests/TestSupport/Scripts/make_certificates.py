"""A certificate authority and server certificates for the TLS tests (made fresh each run).

usage: make_certificates.py DIR
Writes DIR/ca.pem and, for each certificate below, DIR/NAME.pem (leaf, then the CA) and
DIR/NAME.key; prints one JSON object: each certificate's serial number (hex, lowercase).
"""
import datetime
import ipaddress
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

directory = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
day = datetime.timedelta(days=1)


def key():
    return ec.generate_private_key(ec.SECP256R1())


def pem(key_):
    return key_.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


ca_key = key()
ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Switchboard test CA")])
ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
      .serial_number(x509.random_serial_number()).not_valid_before(now - day).not_valid_after(now + 30 * day)
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
      .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                   key_encipherment=False, data_encipherment=False, key_agreement=False,
                                   encipher_only=False, decipher_only=False), critical=True)
      .sign(ca_key, hashes.SHA256()))
ca_pem = ca.public_bytes(serialization.Encoding.PEM)
with open(os.path.join(directory, "ca.pem"), "wb") as f:
    f.write(ca_pem)

# name: (DNS names, IP addresses, valid from, valid until)
certificates = {
    "localhost": (["localhost"], ["127.0.0.1"], now - day, now + 30 * day),
    "renewed": (["localhost"], ["127.0.0.1"], now - day, now + 60 * day),
    "api": (["api.test", "*.api.test"], [], now - day, now + 30 * day),
    "expired": (["localhost"], ["127.0.0.1"], now - 30 * day, now - day),
    "other": (["other.test"], [], now - day, now + 30 * day),
}
serials = {}
for name, (dns, ips, start, end) in certificates.items():
    leaf_key = key()
    alt = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    serial = x509.random_serial_number()
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns[0])]))
            .issuer_name(ca_name).public_key(leaf_key.public_key()).serial_number(serial)
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    with open(os.path.join(directory, name + ".pem"), "wb") as f:
        f.write(leaf.public_bytes(serialization.Encoding.PEM) + ca_pem)
    with open(os.path.join(directory, name + ".key"), "wb") as f:
        f.write(pem(leaf_key))
    serials[name] = format(serial, "x")
print(json.dumps(serials))
