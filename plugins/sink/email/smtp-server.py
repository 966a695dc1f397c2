#!/usr/bin/python3 -W ignore::DeprecationWarning
"""A real SMTP server for antmon's e-mail tests: aiosmtpd (Debian's
python3-aiosmtpd, so run it with /usr/bin/python3) storing each message in
a maildir, with STARTTLS or implicit TLS on a throw-away certificate, and
AUTH against one user.

Usage: smtp-server.py DIR [--tls none|starttls|tls] [--auth USER:PASSWORD]

It listens on 127.0.0.1 on a free port, then prints "port N" (and, with
TLS, the certificate is DIR/cert.pem by then). Messages land in
DIR/maildir/new. Each AUTH attempt prints "auth ok USER" or "auth failed
USER". SIGTERM stops it."""
import argparse
import asyncio
import os
import signal
import socket
import ssl
import subprocess
import sys

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def make_certificate(directory):
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--tls", choices=["none", "starttls", "tls"], default="none")
    parser.add_argument("--auth")
    args = parser.parse_args()
    user, password = args.auth.split(":", 1) if args.auth else (None, None)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        login = auth_data.login.decode() if isinstance(auth_data, LoginPassword) else "?"
        print("auth", "ok" if ok else "failed", login, flush=True)
        # handled=False: aiosmtpd answers "535 credentials invalid" itself.
        return AuthResult(success=ok, handled=False)

    context = make_certificate(args.dir) if args.tls != "none" else None
    maildir = os.path.join(args.dir, "maildir")

    def factory():
        options = {"hostname": "antmon-test"}
        if user is not None:
            options.update(authenticator=authenticator, auth_required=True,
                           auth_require_tls=args.tls == "starttls")
        if args.tls == "starttls":
            options.update(tls_context=context, require_starttls=True)
        return SMTP(Mailbox(maildir), **options)

    loop = asyncio.new_event_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    loop.run_until_complete(
        loop.create_server(factory, sock=sock, ssl=context if args.tls == "tls" else None))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    print("port", sock.getsockname()[1], flush=True)
    loop.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
