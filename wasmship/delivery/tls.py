"""HTTPS for `serve` and `dev`: the certificate (the user's, or one made once for this machine
and kept in the cache's `tls/` bucket), the server's TLS context, and each connection's
handshake, done in its handler's thread within the request head's deadline."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from wasmship import cachedir
from wasmship.errors import UsageError

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
VALID_DAYS = 365
RENEW_DAYS = 7  # a certificate this close to its end is made again
MAX_NAMES = 64  # the names one certificate holds (a machine with very many addresses)
ENTRY = "localhost"  # the one entry of the tls/ bucket: this machine's certificate
SERVER_FILE = "server.pem"  # key and certificate, 0600: what the server loads
CERT_FILE = "cert.pem"  # the certificate alone: what a user trusts
_TLS_HANDSHAKE = 0x16  # the first byte of a TLS connection (a handshake record)
_PLAIN_ANSWER = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 55\r\nConnection: close\r\n\r\n"
    b"400 this server speaks HTTPS: use https:// in the URL.\n"
)


@dataclass(frozen=True)
class Certificate:
    """The files a server's TLS uses, and whether wasmship made them (self-signed)."""

    cert: Path  # the certificate (to trust it)
    key: Path  # the private key (for a made one: the same file as SERVER_FILE)
    made: bool = False
    names: tuple[str, ...] = ()  # a made certificate's names


def user_certificate(cert: Path | None, key: Path | None) -> Certificate:
    """The user's --cert and --key (both, or neither is no certificate), checked to load."""
    if cert is None or key is None:
        given, lacking = ("--cert", "--key") if key is None else ("--key", "--cert")
        raise UsageError(f"{given} needs {lacking} too: give the certificate and its key")
    found = Certificate(cert=cert, key=key)
    context(found)  # a wrong file or a key of another certificate is said now, not per request
    return found


def machine_certificate(cache_root: Path, host: str) -> Certificate:
    """This machine's self-signed certificate, made once into the cache's tls/ bucket; made
    again when it is near its end or does not name HOST."""
    folder = cachedir.TLS.path(cache_root) / ENTRY
    wanted = names_for(host)
    found = _read_names(folder / CERT_FILE)
    if found is not None and set(wanted) <= set(found):
        cachedir.touch(folder)
        return Certificate(folder / CERT_FILE, folder / SERVER_FILE, made=True, names=found)
    names = tuple(dict.fromkeys([*wanted, *(found or ())]))[:MAX_NAMES]
    key_pem, cert_pem = _make(names)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write(folder / CERT_FILE, cert_pem, 0o644)
        _write(folder / SERVER_FILE, key_pem + cert_pem, 0o600)
    except OSError as exc:
        raise UsageError(
            f"cannot keep the HTTPS certificate in {folder}: {exc.strerror or exc}; "
            "give --cache-dir (or WASMSHIP_CACHE_DIR) a writable folder, or --cert and --key"
        ) from exc
    return Certificate(folder / CERT_FILE, folder / SERVER_FILE, made=True, names=names)


def names_for(host: str) -> tuple[str, ...]:
    """The names a certificate for a server bound to HOST must hold: this machine's loopback
    names, HOST, and for every interface ('', 0.0.0.0, ::) the machine's name and addresses."""
    names = [*LOOPBACK_NAMES]
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):
        names += _machine_names()
    elif host:
        names.append(host)
    return tuple(dict.fromkeys(n.lower() for n in names))[:MAX_NAMES]


def context(certificate: Certificate) -> ssl.SSLContext:
    """The server's TLS context for CERTIFICATE (TLS 1.2 or later, HTTP/1.1 by ALPN)."""
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.minimum_version = ssl.TLSVersion.TLSv1_2
    tls.set_alpn_protocols(["http/1.1"])
    try:
        tls.load_cert_chain(certificate.cert, certificate.key)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
        raise UsageError(
            f"cannot use the certificate {certificate.cert} with the key {certificate.key}: "
            f"{reason}; give a PEM certificate and its own PEM private key (mkcert makes both)"
        ) from exc
    return tls


def trust_hint(certificate: Certificate) -> str | None:
    """One line on trusting a made certificate; None for the user's own."""
    if not certificate.made:
        return None
    return (
        f"HTTPS with a self-signed certificate ({certificate.cert}): trust it in your browser or "
        "system store, give mkcert's with --cert/--key, or start Chromium with "
        "--ignore-certificate-errors to try"
    )


def held(certificate: Certificate | None) -> contextlib.AbstractContextManager[object]:
    """While a server uses a made CERTIFICATE, `clean --cache` leaves it (the bound never drops
    it)."""
    if certificate is None or not certificate.made:
        return contextlib.nullcontext()
    return cachedir.hold(certificate.cert.parent)


def wrap(tls: ssl.SSLContext, connection: socket.socket) -> ssl.SSLSocket:
    """CONNECTION under TLS, its handshake not yet done (no I/O in the accepting thread)."""
    return tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)


def handshake(connection: ssl.SSLSocket) -> bool:
    """Do CONNECTION's handshake; False when it fails or the client speaks plain HTTP (told so
    in a 400 answer). The server's connection guard bounds it by shutting the socket down."""
    try:
        # The plain socket's recv: a peek at the first byte, under the TLS layer.
        first = socket.socket.recv(connection, 1, socket.MSG_PEEK)
        if not first:
            return False
        if first[0] != _TLS_HANDSHAKE:
            socket.socket.recv(connection, 65536)  # its request: unread, close would reset
            socket.socket.sendall(connection, _PLAIN_ANSWER)
            return False
        connection.do_handshake()
    except (OSError, ValueError):
        return False
    return True


def _machine_names() -> list[str]:
    """This machine's name and the addresses it resolves to (as a phone would reach it)."""
    names: list[str] = []
    with contextlib.suppress(OSError, UnicodeError):
        hostname = socket.gethostname()
        names.append(hostname)
        for *_, address in socket.getaddrinfo(hostname, None, proto=socket.IPPROTO_TCP):
            names.append(str(address[0]).split("%", 1)[0])
    return names


def _read_names(path: Path) -> tuple[str, ...] | None:
    """The names of the certificate at PATH; None when it is missing, unreadable or near its
    end."""
    try:
        from cryptography import x509
    except ImportError:
        return None
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        alternative = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return None
    left = cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    if left < datetime.timedelta(days=RENEW_DAYS):
        return None
    dns = alternative.get_values_for_type(x509.DNSName)
    ips = [str(ip) for ip in alternative.get_values_for_type(x509.IPAddress)]
    return tuple([*dns, *ips])


def _make(names: tuple[str, ...]) -> tuple[bytes, bytes]:
    """A new P-256 key and a self-signed certificate for NAMES, as PEM."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError:
        raise UsageError(
            "--https makes its certificate with the cryptography package, which is not "
            "installed: pip install 'wasmship[https]', or give --cert FILE --key FILE "
            "(for example from mkcert)"
        ) from None
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wasmship localhost")])
    now = datetime.datetime.now(datetime.UTC)
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))  # a clock a little behind
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes, mode: int) -> None:
    """DATA into PATH whole (a temp file renamed), created with MODE: never readable by
    others for a moment, never half written."""
    temp = path.with_name(f"{cachedir.TEMP_PREFIX}{os.getpid()}-{path.name}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # the umask does not widen or narrow it
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(temp, path)
