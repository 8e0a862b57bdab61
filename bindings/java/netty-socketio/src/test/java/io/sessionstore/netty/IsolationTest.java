package io.sessionstore.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sessionstore.Store;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

import org.json.JSONArray;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * 40 clients at once, half on websocket and half on polling, each writing and reading its own
 * session through the server's event loops: every session holds its own values only, and once
 * they all left nothing is left under the url's prefix.
 */
@ExtendWith(Servers.class)
class IsolationTest {
    private static final int CLIENTS = 40;

    static Stream<String> urls() {
        return Backends.urls();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("urls")
    void fortyConcurrentClientsStayIsolated(String url) throws Exception {
        TestServer node = Servers.main(url);
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        List<String> sids = new ArrayList<>();
        try {
            List<CompletableFuture<String>> runs = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                int n = i;
                runs.add(CompletableFuture.supplyAsync(() -> run(node, n), pool));
            }
            for (int i = 0; i < CLIENTS; i++) {
                sids.add(TestClient.await(runs.get(i)));
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(CLIENTS, Set.copyOf(sids).size(), "one session per client");
        for (String sid : sids) {
            Eventually.await("session " + sid + " destroyed", () -> node.gone(sid));
        }
        if (Backends.isRedis(url)) {
            Eventually.await("no key left under " + node.prefix, () -> node.rawKeys().isEmpty());
        }
    }

    /** One client's life: its own values in, the same values out, as its node and another see them. */
    private static String run(TestServer node, int n) {
        String transport = n % 2 == 0 ? TestClient.WEBSOCKET : TestClient.POLLING;
        try (TestClient client = TestClient.connect(node.port, transport, "user=" + n)) {
            String sid = client.sessionId();
            client.set("n", n);
            client.set("name", "client-" + n);
            client.set("list", new JSONArray().put(n).put(n + 1));
            for (int round = 0; round < 3; round++) {
                client.set("round", round);
                assertEquals(round, client.call("get", "round")[0]);
            }
            assertEquals(n, client.call("get", "n")[0]);
            assertEquals(n, client.call("get", "userId")[0]);
            assertEquals("client-" + n, client.call("get", "name")[0]);
            try (Store other = node.peer.createStore(sid)) {
                assertEquals(n, (Integer) other.get("userId"));
                assertEquals(n, (Integer) other.get("n"));
                assertEquals(List.of(n, n + 1), other.get("list"));
                assertEquals(Set.of("userId", "claims", "tenant", "n", "name", "list", "round"), other.keys());
            }
            return sid;
        } catch (Exception | AssertionError e) {
            throw new AssertionError("client " + n + " (" + transport + ")", e);
        }
    }
}
