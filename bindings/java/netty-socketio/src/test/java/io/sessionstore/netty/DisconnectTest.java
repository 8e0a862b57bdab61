package io.sessionstore.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * netty-socketio calls the factory's {@code onDisconnect} before the application's
 * {@code DisconnectListener}s: the session must still be readable in them, by {@code client.get}
 * and by another node, and be gone after them — on both transports, and when netty-socketio's
 * ping timeout (its timer thread, not an event loop) ends a client that went silent.
 */
@ExtendWith(Servers.class)
class DisconnectTest {
    static Stream<Arguments> urlsAndTransports() {
        return Backends.urls().flatMap(url -> Stream.of(
                Arguments.of(url, TestClient.WEBSOCKET), Arguments.of(url, TestClient.POLLING)));
    }

    static Stream<String> urls() {
        return Backends.urls();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("urlsAndTransports")
    void readableInDisconnectListenersThenDestroyed(String url, String transport) throws Exception {
        TestServer node = Servers.main(url);
        String sid;
        try (TestClient client = TestClient.connect(node.port, transport, "user=11")) {
            sid = client.sessionId();
            client.set("score", 5);
        }
        Eventually.await("the disconnect listener of " + sid + " ran", () -> node.farewells.containsKey(sid));
        TestServer.Farewell farewell = node.farewells.get(sid);
        assertNull(farewell.error, "the disconnect listener threw");
        assertTrue(farewell.onEventLoop, "a client that says goodbye is handled on an event loop");
        assertEquals(11, farewell.userId, "client.get in the disconnect listener");
        assertTrue(farewell.hadTenant, "client.has in the disconnect listener");
        assertEquals(11, farewell.peerUserId, "another node, during the disconnect listener");
        Eventually.await("session " + sid + " destroyed after its listeners", () -> node.gone(sid));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("urls")
    void pingTimeoutOfASilentPollingClient(String url) throws Exception {
        TestServer node = Servers.fastPing(url);
        // A client by hand: the handshake, the namespace's connect, then silence.
        String base = "http://127.0.0.1:" + node.port + "/socket.io/?EIO=4&transport=polling";
        Matcher m = Pattern.compile("\"sid\":\"([0-9a-f-]{36})\"").matcher(http("GET", base + "&user=12", null));
        assertTrue(m.find(), "handshake answer");
        String sid = m.group(1);
        assertEquals("ok", http("POST", base + "&sid=" + sid, "40"));
        Eventually.await("the ping timeout's disconnect listener of " + sid + " ran",
                () -> node.farewells.containsKey(sid));
        TestServer.Farewell farewell = node.farewells.get(sid);
        assertNull(farewell.error, "the disconnect listener threw");
        assertFalse(farewell.onEventLoop, "netty-socketio's ping timeout runs on its timer thread");
        assertEquals(12, farewell.userId, "client.get in the disconnect listener");
        assertTrue(farewell.hadTenant, "client.has in the disconnect listener");
        Eventually.await("session " + sid + " destroyed", () -> node.gone(sid));
    }

    private static String http(String method, String url, String body) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
        c.setRequestMethod(method);
        c.setConnectTimeout(5000);
        c.setReadTimeout(5000);
        if (body != null) {
            c.setDoOutput(true);
            c.setRequestProperty("Content-Type", "text/plain;charset=UTF-8");
            try (OutputStream out = c.getOutputStream()) {
                out.write(body.getBytes(StandardCharsets.UTF_8));
            }
        }
        try (InputStream in = c.getInputStream()) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            in.transferTo(buf);
            return buf.toString(StandardCharsets.UTF_8);
        } finally {
            c.disconnect();
        }
    }
}
