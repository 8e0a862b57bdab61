package io.sessionstore.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A server process killed with {@code destroyForcibly()} (SIGKILL: no disconnect, no shutdown)
 * leaves its sessions behind, and with the url's {@code ttl_ms} the backend reclaims them: the
 * core stops renewing their leases with the process. Redis urls only (memory dies with the
 * process anyway).
 */
class KilledServerTest {
    private static final int TTL_MS = 1500;
    private static final int CLIENTS = 3;

    static Stream<String> urls() {
        List<String> urls = new ArrayList<>();
        Backends.redisUrls().forEach(urls::add);
        return urls.isEmpty() ? Stream.of("no Redis url") : urls.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("urls")
    void aKilledServersSessionsVanishWithinTtl(String url) throws Exception {
        assumeTrue(Backends.isRedis(url), "SESSIONSTORE_TEST_URLS has no Redis url");
        String leased = Backends.withFreshPrefix(Backends.withOption(url, "ttl_ms=" + TTL_MS));
        String prefix = Backends.prefixOf(leased);
        Process server = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                ServerMain.class.getName(), leased)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        List<TestClient> clients = new ArrayList<>();
        try {
            int port = port(server);
            for (int i = 0; i < CLIENTS; i++) {
                TestClient client = TestClient.connect(port, TestClient.WEBSOCKET, "user=" + i);
                clients.add(client);
                client.set("note", "alive");
            }
            assertEquals(CLIENTS, RawRedis.keys(leased, prefix).size(), "the live server's sessions");
            server.destroyForcibly();
            assertTrue(server.waitFor(20, TimeUnit.SECONDS), "the server process ended");
        } finally {
            server.destroyForcibly();
            clients.forEach(TestClient::close);
        }
        Eventually.await("no key left under " + prefix + " after the kill", 10L * TTL_MS + 10_000,
                () -> RawRedis.keys(leased, prefix).isEmpty());
    }

    /** The port the child printed, read with a bound. */
    private static int port(Process server) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        String first = line.get(60, TimeUnit.SECONDS);
        assertTrue(first != null && first.startsWith("port "), () -> "the server printed " + first);
        return Integer.parseInt(first.substring("port ".length()));
    }
}
