package io.sessionstore.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sessionstore.Store;

import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two nodes sharing a Redis server, their pub/sub netty-socketio's own
 * {@code RedissonPubSubStore} (on the core's Redisson): a room broadcast on one node reaches a
 * client of the other, and the other node reads the first one's session by its UUID.
 */
@ExtendWith(Servers.class)
class RedissonPubSubTest {
    @Test
    void aRoomBroadcastReachesTheOtherNode() throws Exception {
        String url = Backends.redisUrls().filter(u -> u.startsWith("redis://")).findFirst().orElse(null);
        assumeTrue(url != null, "SESSIONSTORE_TEST_URLS has no standalone redis:// url");
        TestServer[] nodes = Servers.redissonPair(url);
        String sidA;
        String sidB;
        try (TestClient a = TestClient.connect(nodes[0].port, TestClient.WEBSOCKET, "user=1");
                TestClient b = TestClient.connect(nodes[1].port, TestClient.POLLING, "user=2")) {
            sidA = a.sessionId();
            sidB = b.sessionId();
            a.call("join", "lobby");
            b.call("join", "lobby");
            CompletableFuture<Object[]> atA = a.next("news");
            CompletableFuture<Object[]> atB = b.next("news");
            nodes[0].server.getRoomOperations("lobby").sendEvent("news", "hello");
            assertEquals("hello", TestClient.await(atB)[0], "the other node's client");
            assertEquals("hello", TestClient.await(atA)[0], "this node's client");
            try (Store other = nodes[1].peer.createStore(sidA)) {
                assertEquals(1, (Integer) other.get("userId"), "node 2 reads node 1's session");
            }
        }
        Eventually.await("both sessions destroyed", () -> nodes[0].gone(sidA) && nodes[1].gone(sidB));
        Eventually.await("no key left", () -> nodes[0].rawKeys().isEmpty());
    }
}
