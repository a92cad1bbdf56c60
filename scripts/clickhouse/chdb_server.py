#!/usr/bin/env python3
"""ClickHouse's HTTP interface, as much of it as telemetryd speaks, over PyPI's chdb (ClickHouse's own engine in
process): statements in the body or in ?query= with the rows of an INSERT in the body (gzip when the request says
Content-Encoding: gzip), settings as further query parameters, HTTP basic authentication, errors as HTTP 500 with
ClickHouse's message. So the daemon's own statements (the table it creates, its inserts with their deduplication
tokens, its lightweight deletes and every query) run on a current ClickHouse in scripts/clickhouse/test.

  chdb_server.py PORT DATA_DIR [USER PASSWORD]

Prints "listening PORT" once it answers. Needs chdb (requirements.txt, scripts/setup).
"""
import base64
import gzip
import http.server
import re
import sys
import threading
import urllib.parse

from chdb import session

PORT, DATA = int(sys.argv[1]), sys.argv[2]
USER, PASSWORD = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else ("default", "")
SESSION = session.Session(DATA)
LOCK = threading.Lock()  # one chdb session, one statement at a time
FORMAT = re.compile(r"\bFORMAT\s+\w+\s*$", re.IGNORECASE)


def literal(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return self.answer(403, b"Code: 516. DB::Exception: Authentication failed")
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(self.path).query, keep_blank_values=True))
        statement = params.pop("query", None)
        settings = {k: v for k, v in params.items() if k not in ("database", "mutations_sync")}
        if statement is None:
            statement, body = body.decode(), b""
        if statement.lstrip().upper().startswith("INSERT") and settings:
            clause = "SETTINGS " + ", ".join(f"{k} = {literal(v)}" for k, v in settings.items()) + " "
            statement = re.sub(r"\bFORMAT\b", clause + "FORMAT", statement, count=1, flags=re.IGNORECASE)
        if body:
            statement += "\n" + body.decode()
        try:
            with LOCK:
                result = SESSION.query(statement, "TabSeparated")
            self.answer(200, result.bytes() if result is not None else b"")
        except Exception as error:  # ClickHouse's own message, as the server would send it
            self.answer(500, str(error).encode())


server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print("listening", PORT, flush=True)
server.serve_forever()
