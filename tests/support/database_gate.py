"""A TCP gate in front of PostgreSQL that refuses the first connections, then forwards."""

import contextlib
import socket
import threading

from sqlalchemy.engine import make_url

from tests.conftest import TEST_DATABASE_URL


class DatabaseGate:
    """Closes the first `refuse_first` connections at once (the database seems down),
    and every new one while `refusing` is set; connections already open go on."""

    def __init__(self, refuse_first: int = 0):
        self.refuse_first = refuse_first
        self.refusing = False
        self.refused = 0
        self._open: list[socket.socket] = []
        target = make_url(TEST_DATABASE_URL)
        self._target = (target.host or "127.0.0.1", target.port or 5432)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = target.set(port=self._server.getsockname()[1]).render_as_string(
            hide_password=False
        )
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:  # closed
                return
            if self.refusing or self.refused < self.refuse_first:
                self.refused += 1
                client.close()
                continue
            backend = socket.create_connection(self._target)
            self._open += [client, backend]
            for source, sink in ((client, backend), (backend, client)):
                threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()

    def cut(self) -> None:
        """The database goes away: open connections drop, new ones are refused."""
        self.refusing = True
        for end in self._open:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._server.close()

    def __enter__(self) -> "DatabaseGate":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
