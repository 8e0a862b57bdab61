package io.sessionstore.netty;

import com.corundumstudio.socketio.AuthorizationResult;
import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.SocketIOClient;
import com.corundumstudio.socketio.SocketIOServer;
import com.corundumstudio.socketio.store.pubsub.PubSubStore;

import io.netty.util.internal.ThreadExecutorMap;
import io.sessionstore.Store;
import io.sessionstore.StoreDestroyedException;
import io.sessionstore.StoreFactory;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.LongFunction;

/**
 * A real netty-socketio server on 127.0.0.1 (a free port) with a {@link SessionStoreFactory} on a
 * url with a fresh prefix, and the listeners the tests drive:
 *
 * <ul>
 *   <li>the handshake's {@code AuthorizationResult} stores {@code userId} (the query's
 *       {@code user}, an Integer) and {@code claims} (a map holding a list);
 *   <li>the connect listener writes {@code tenant} and remembers the {@code userId} it read;
 *   <li>events {@code whoami} (acks the session UUID), {@code set} ({@code {key, value}}),
 *       {@code get} (acks the value and its Java class), {@code join} (a room);
 *   <li>the disconnect listener remembers what it read ({@link Farewell}).
 * </ul>
 *
 * <p>{@link #peer} is another node: a second core factory on the same url (on {@code memory://},
 * where nothing is shared between factories, the very factory the server's sessions live in).
 */
final class TestServer implements AutoCloseable {
    /**
     * What a session's disconnect listener read, on which kind of thread it ran, and what it
     * threw instead (null when nothing).
     */
    static final class Farewell {
        final boolean onEventLoop;
        Object userId;
        boolean hadTenant;
        Object peerUserId;
        RuntimeException error;

        Farewell(boolean onEventLoop) {
            this.onEventLoop = onEventLoop;
        }
    }

    final String url;
    final String prefix;
    final StoreFactory peer;
    final SessionStoreFactory factory;
    final SocketIOServer server;
    final int port;
    final Map<String, Object> connectSaw = new ConcurrentHashMap<>();
    final Map<String, Farewell> farewells = new ConcurrentHashMap<>();

    /** A server on {@code url} (a fresh prefix is added) with single-node pub/sub. */
    static TestServer start(String url) {
        return startExact(Backends.withFreshPrefix(url), config -> { }, null);
    }

    /** A server on {@code url} (a fresh prefix is added); {@code tweak} adjusts its configuration. */
    static TestServer start(String url, Consumer<Configuration> tweak) {
        return startExact(Backends.withFreshPrefix(url), tweak, null);
    }

    /**
     * A server on exactly {@code url} (so a second node can share the first one's prefix);
     * {@code tweak} adjusts the configuration, {@code pubSub} (null: the default) makes the
     * pub/sub store. On Redis the server opens its own factory from the url, beside the peer's;
     * on memory it runs on the peer.
     */
    static TestServer startExact(String url, Consumer<Configuration> tweak, LongFunction<PubSubStore> pubSub) {
        StoreFactory peer = StoreFactory.open(url);
        SessionStoreFactory factory;
        if (Backends.isRedis(url)) {
            factory = pubSub == null ? new SessionStoreFactory(url) : new SessionStoreFactory(url, pubSub);
        } else {
            factory = pubSub == null ? new SessionStoreFactory(peer) : new SessionStoreFactory(peer, pubSub);
        }
        return new TestServer(url, peer, factory, tweak);
    }

    private TestServer(String url, StoreFactory peer, SessionStoreFactory factory, Consumer<Configuration> tweak) {
        this.url = url;
        this.prefix = Backends.prefixOf(url);
        this.peer = peer;
        this.factory = factory;
        Configuration config = new Configuration();
        config.setHostname("127.0.0.1");
        config.setRandomSession(true);
        config.setStoreFactory(factory);
        config.setAuthorizationListener(data -> {
            Map<String, Object> params = new HashMap<>();
            String user = data.getSingleUrlParam("user");
            if (user != null) {
                params.put("userId", Integer.parseInt(user));
                Map<String, Object> claims = new LinkedHashMap<>(); // ordered, as the other languages read it
                claims.put("role", "admin");
                claims.put("rooms", List.of("lobby", "ops"));
                params.put("claims", claims);
            }
            return new AuthorizationResult(true, params);
        });
        tweak.accept(config);
        SocketIOServer started = null;
        int bound = 0;
        for (int attempt = 0; started == null; attempt++) {
            bound = freePort();
            config.setPort(bound);
            SocketIOServer candidate = new SocketIOServer(config);
            listen(candidate);
            try {
                candidate.start();
                started = candidate;
            } catch (RuntimeException portTaken) {
                if (attempt == 5) {
                    throw portTaken;
                }
            }
        }
        this.server = started;
        this.port = bound;
    }

    private void listen(SocketIOServer s) {
        s.addConnectListener(client -> {
            Object userId = client.get("userId");
            if (userId != null) {
                connectSaw.put(sid(client), userId);
            }
            client.set("tenant", "acme");
        });
        s.addEventListener("whoami", String.class, (client, data, ack) -> ack.sendAckData(sid(client)));
        s.addEventListener("set", Map.class, (client, data, ack) -> {
            client.set((String) data.get("key"), data.get("value"));
            ack.sendAckData(true);
        });
        s.addEventListener("get", String.class, (client, key, ack) -> {
            Object value = client.get(key);
            ack.sendAckData(value, value == null ? "null" : value.getClass().getName());
        });
        s.addEventListener("join", String.class, (client, room, ack) -> {
            client.joinRoom(room);
            ack.sendAckData(true);
        });
        s.addDisconnectListener(client -> {
            Farewell farewell = new Farewell(ThreadExecutorMap.currentExecutor() != null);
            try {
                farewell.userId = client.get("userId");
                farewell.hadTenant = client.has("tenant");
                // Off an event loop the session is already destroyed, and opening it would start it anew.
                if (farewell.onEventLoop) {
                    try (Store other = peer.createStore(sid(client))) {
                        farewell.peerUserId = other.get("userId");
                    }
                }
            } catch (RuntimeException e) {
                farewell.error = e;
            }
            farewells.put(sid(client), farewell);
        });
    }

    static String sid(SocketIOClient client) {
        return client.getSessionId().toString();
    }

    /** The keys the backend still holds under this server's prefix (Redis urls only). */
    Set<String> rawKeys() throws IOException {
        return RawRedis.keys(url, prefix);
    }

    /**
     * Whether the session's data is gone. On Redis its key; on memory (no raw view) a probe
     * through the factory the sessions live in: every session of these tests holds data, so a
     * store that opens empty means it was destroyed (the probe's own empty session goes again).
     * A probe that the server's destroy overtakes answers not yet.
     */
    boolean gone(String sid) throws IOException {
        if (Backends.isRedis(url)) {
            return !rawKeys().contains(prefix + ":" + sid);
        }
        try (Store probe = peer.createStore(sid)) {
            boolean empty = probe.size() == 0;
            if (empty) {
                probe.destroy();
            }
            return empty;
        } catch (StoreDestroyedException destroyedUnderTheProbe) {
            return false;
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Stops the server (which shuts the factory down) and closes the peer. */
    @Override
    public void close() {
        try {
            server.stop();
        } finally {
            peer.close();
        }
    }
}
