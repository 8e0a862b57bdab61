package io.sessionstore.netty;

import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

/**
 * {@code SocketIOServer.stop()}: its event loops close every websocket, whose sessions are
 * destroyed as on any disconnect; then {@code shutdown()} releases the handles left (a polling
 * client between two polls is never disconnected by netty-socketio), whose data stays. On the
 * first Redis url of the list, else on memory.
 */
class ShutdownTest {
    @Test
    void stoppingTheServerDestroysWebsocketSessionsAndReleasesTheRest() throws Exception {
        String url = Backends.redisUrls().findFirst().orElse("memory://");
        TestServer node = TestServer.start(url);
        String polled = null;
        try {
            String websocket;
            TestClient a = TestClient.connect(node.port, TestClient.WEBSOCKET, "user=1");
            TestClient b = TestClient.connect(node.port, TestClient.POLLING, "user=2");
            websocket = a.sessionId();
            polled = b.sessionId();
            node.server.stop();
            a.close();
            b.close();
            String ws = websocket;
            Eventually.await("the websocket session destroyed by the stop", () -> node.gone(ws));
            assertFalse(node.gone(polled), "the polling session is released, not destroyed");
        } finally {
            if (polled != null) {
                node.peer.destroySession(polled);
            }
            node.peer.close();
        }
    }
}
