package io.sessionstore.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sessionstore.Store;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a session holds through a real server and client: the handshake's store params and
 * what listeners write, read back by {@code client.get} and by another node by the session's
 * UUID, with the core's Java types.
 */
@ExtendWith(Servers.class)
class SessionDataTest {
    static Stream<String> urls() {
        return Backends.urls();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("urls")
    void handshakeParamsAndListenerWritesAreVisible(String url) throws Exception {
        TestServer node = Servers.main(url);
        String sid;
        try (TestClient client = TestClient.connect(node.port, TestClient.WEBSOCKET, "user=7")) {
            sid = client.sessionId();
            client.set("score", 3);
            client.set("profile", new JSONObject().put("tags", new JSONArray().put(1).put("two")
                    .put(new JSONObject().put("deep", true))));

            // The connect listener already read the handshake's param.
            assertEquals(7, node.connectSaw.get(sid));
            // client.get in an event listener: the core's types, an Integer stays an Integer.
            assertTypedValue(client, "userId", 7, "java.lang.Integer");
            assertTypedValue(client, "score", 3, "java.lang.Integer");
            assertTypedValue(client, "tenant", "acme", "java.lang.String");

            // Another node reads the same session by its UUID.
            try (Store other = node.peer.createStore(sid)) {
                Integer userId = other.get("userId");
                assertEquals(7, userId);
                Map<String, Object> claims = other.get("claims");
                assertEquals("admin", claims.get("role"));
                assertEquals(List.of("lobby", "ops"), claims.get("rooms"));
                assertEquals("acme", other.get("tenant"));
                Map<String, Object> profile = other.get("profile");
                assertEquals(List.of(1, "two", Map.of("deep", true)), profile.get("tags"));
                assertEquals(Map.of("userId", 7, "claims", claims, "tenant", "acme", "score", 3, "profile", profile),
                        other.getAll());
                // ... and what it writes, a listener reads.
                other.set("fromPeer", List.of(1L, 2.5d));
            }
            assertTypedValue(client, "fromPeer", new JSONArray().put(1).put(2.5), "java.util.ArrayList");
        }
        String session = sid;
        Eventually.await("session " + sid + " destroyed", () -> node.gone(session));
    }

    private static void assertTypedValue(TestClient client, String key, Object value, String javaClass)
            throws Exception {
        Object[] reply = client.call("get", key);
        assertEquals(javaClass, reply[1], key + "'s Java class");
        assertTrue(value instanceof JSONArray ? value.toString().equals(reply[0].toString()) : value.equals(reply[0]),
                () -> key + ": expected " + value + ", got " + reply[0]);
    }
}
