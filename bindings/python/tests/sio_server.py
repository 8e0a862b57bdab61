"""A threaded sessionstore.socketio.Server in its own process, for the SIGKILL test: serves on
a free 127.0.0.1 port (printed on the first line) until killed.

    python sio_server.py BACKEND_URL
"""

import sys

import socketio
from werkzeug.serving import make_server

import sessionstore
from sessionstore.socketio import Server


def main() -> None:
    sio = Server(sessionstore.StoreFactory(sys.argv[1]), async_mode="threading")

    @sio.event
    def connect(sid, environ, auth):  # type: ignore[no-untyped-def]
        sio.save_session(sid, {"userId": auth["user"]})

    server = make_server("127.0.0.1", 0, socketio.WSGIApp(sio), threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
