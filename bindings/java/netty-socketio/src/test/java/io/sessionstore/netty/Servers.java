package io.sessionstore.netty;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

import com.corundumstudio.socketio.store.RedissonPubSubStore;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * Servers shared by the test classes, one per url and kind, stopped together when the suite
 * ends: a netty-socketio server takes seconds to stop (Netty's graceful shutdown waits out a
 * quiet period on each of its two event loop groups), so stopping them one by one would cost
 * more than every test together. Test classes that use them say {@code @ExtendWith(Servers.class)}.
 */
final class Servers implements BeforeAllCallback {
    private static final Map<String, TestServer> RUNNING = new ConcurrentHashMap<>();
    private static final Queue<Runnable> AFTER_STOP = new ConcurrentLinkedQueue<>();

    /** The server with netty-socketio's default pings, on {@code url}. */
    static TestServer main(String url) {
        return get("main " + url, () -> TestServer.start(url));
    }

    /**
     * A server whose clients time out 2 s after they stop answering pings, so a silent client
     * is disconnected by netty-socketio's ping timeout (its timer thread). Its timer starts at
     * the handshake: shorter, a loaded machine's late namespace connect finds the session gone.
     */
    static TestServer fastPing(String url) {
        return get("fast-ping " + url, () -> TestServer.start(url, config -> {
            config.setPingInterval(1000);
            config.setPingTimeout(1000);
        }));
    }

    /**
     * Two nodes on one Redis url and prefix, whose pub/sub is netty-socketio's
     * {@code RedissonPubSubStore}, each with its own Redisson client (shut down after them).
     */
    static TestServer[] redissonPair(String url) {
        String shared = Backends.withFreshPrefix(url);
        return new TestServer[] {
            get("redisson-1 " + url, () -> redissonNode(shared)), get("redisson-2 " + url, () -> redissonNode(shared)),
        };
    }

    private static TestServer redissonNode(String url) {
        Config config = new Config();
        String host = url.substring("redis://".length()).split("[/?]")[0];
        config.useSingleServer().setAddress("redis://" + host);
        RedissonClient redisson = Redisson.create(config);
        AFTER_STOP.add(redisson::shutdown);
        return TestServer.startExact(url, c -> { }, nodeId -> new RedissonPubSubStore(redisson, redisson, nodeId));
    }

    private static TestServer get(String key, Supplier<TestServer> start) {
        return RUNNING.computeIfAbsent(key, k -> start.get());
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent(Servers.class, k -> (ExtensionContext.Store.CloseableResource) Servers::stopAll);
    }

    private static void stopAll() throws InterruptedException {
        List<Thread> stopping = new ArrayList<>();
        for (TestServer server : RUNNING.values()) {
            Thread t = new Thread(server::close, "stop " + server.port);
            t.start();
            stopping.add(t);
        }
        for (Thread t : stopping) {
            t.join();
        }
        RUNNING.clear();
        for (Runnable r; (r = AFTER_STOP.poll()) != null; ) {
            r.run();
        }
    }
}
