"""A small HTTP proxy in front of the live service, to inject faults a network could cause."""

import http.client
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}

# A hook sees (method, path, body) before forwarding and returns the body to send.
RequestHook = Callable[[str, str, bytes], bytes]
# A response hook sees (method, path, status) after the service answered; True drops
# the answer: the client's connection closes without a response, as on a network fault.
ResponseHook = Callable[[str, str, int], bool]


class FaultProxy:
    def __init__(self, backend_port: int):
        self.backend_port = backend_port
        self.hooks: list[RequestHook] = []
        self.response_hooks: list[ResponseHook] = []
        self.seen: list[tuple[str, str, int]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                for hook in list(proxy.hooks):
                    body = hook(self.command, self.path, body)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["Content-Length"] = str(len(body))
                backend = http.client.HTTPConnection("127.0.0.1", proxy.backend_port, timeout=120)
                try:
                    backend.request(self.command, self.path, body=body, headers=headers)
                    response = backend.getresponse()
                    payload = response.read()
                finally:
                    backend.close()
                proxy.seen.append((self.command, self.path, response.status))
                answer = (self.command, self.path, response.status)
                if any(hook(*answer) for hook in list(proxy.response_hooks)):
                    self.close_connection = True
                    return
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in HOP_BY_HOP | {"content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
