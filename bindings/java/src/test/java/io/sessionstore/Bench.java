package io.sessionstore;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import java.util.stream.Stream;

import org.redisson.Redisson;
import org.redisson.api.RMap;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * A benchmark, not a test (`make bench-java`): set and get of a short String from 8 threads,
 * each on its own session (one store per client, as a Socket.IO server does), in two parts:
 * <ul>
 * <li>memory: our {@link Store} on {@code memory://} beside socketio4j's kind of MemoryStore
 *     (a {@link ConcurrentHashMap} per session);</li>
 * <li>Redis: our {@link Store} on {@code redis://} beside socketio4j's RedisStore (a Redisson
 *     {@code RMap} per session, {@code redisson.getMap(sessionId)} with {@code put}/{@code get}),
 *     both on one redis-server (no persistence) that the benchmark starts on a free port of
 *     127.0.0.1 and stops by its PID; skipped when {@code redis-server} is not on the PATH.</li>
 * <li>near: hot-session reads on {@code redis://?near_cache=1000} beside the same reads on
 *     {@code memory://} (the values written once; target: at least 0.8x memory's reads/s), on
 *     the same kind of server.</li>
 * </ul>
 * Each side gets a warm-up, then the best of several timed rounds, alternating sides so that
 * both see the same machine load.
 *
 * <p>Arguments (optional): seconds per round (default 2), rounds (default 3), threads (default 8),
 * parts (default {@code memory,redis,near}).
 */
public final class Bench {
    private Bench() {}

    /** The two operations measured. */
    interface Session {
        void set(String key, Object value);

        Object get(String key);
    }

    /** socketio4j's MemoryStore: a ConcurrentHashMap per session. */
    static final class MapSession implements Session {
        private final Map<String, Object> map = new ConcurrentHashMap<>();

        @Override
        public void set(String key, Object value) {
            map.put(key, value);
        }

        @Override
        public Object get(String key) {
            return map.get(key);
        }
    }

    /** Our store. */
    static final class StoreSession implements Session {
        private final Store store;

        StoreSession(Store store) {
            this.store = store;
        }

        @Override
        public void set(String key, Object value) {
            store.set(key, value);
        }

        @Override
        public Object get(String key) {
            return store.get(key);
        }
    }

    /**
     * socketio4j's RedisStore: a Redisson RMap per session, {@code put} (a Lua script that also
     * returns the old value) and {@code get}. With {@code fast}, {@code fastPut} (a plain HSET)
     * instead, the cheapest write Redisson offers, for reference.
     */
    static final class RedissonSession implements Session {
        private final RMap<String, Object> map;
        private final boolean fast;

        RedissonSession(RedissonClient redisson, String sessionId, boolean fast) {
            this.map = redisson.getMap(sessionId);
            this.fast = fast;
        }

        @Override
        public void set(String key, Object value) {
            if (fast) {
                map.fastPut(key, value);
            } else {
                map.put(key, value);
            }
        }

        @Override
        public Object get(String key) {
            return map.get(key);
        }
    }

    /** Reads only: {@code set} does nothing (the values were written once, before). */
    static final class ReadOnly implements Session {
        private final Session inner;

        ReadOnly(Session inner) {
            this.inner = inner;
        }

        @Override
        public void set(String key, Object value) {}

        @Override
        public Object get(String key) {
            return inner.get(key);
        }
    }

    /** Writes the 16 keys {@link #run} reads into {@code store}. */
    static void fill(Store store) {
        for (int i = 0; i < 16; i++) {
            store.set("key" + i, "value-" + i);
        }
    }

    /** Runs {@code threads} threads of set+get for {@code millis}; returns operations per second. */
    static double run(IntFunction<Session> sessions, int threads, long millis) throws InterruptedException {
        String[] keys = new String[16];
        String[] values = new String[16];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = "key" + i;
            values[i] = "value-" + i;
        }
        LongAdder ops = new LongAdder();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        Thread[] workers = new Thread[threads];
        long[] checksum = new long[threads];
        for (int t = 0; t < threads; t++) {
            Session session = sessions.apply(t);
            int id = t;
            workers[t] = new Thread(() -> {
                ready.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                long n = 0;
                long sum = 0;
                while (!stop.get()) {
                    for (int i = 0; i < 64; i++) {
                        int k = i & 15;
                        session.set(keys[k], values[k]);
                        sum += ((String) session.get(keys[k])).length();
                    }
                    n += 128;
                }
                checksum[id] = sum;
                ops.add(n);
            });
            workers[t].start();
        }
        ready.await();
        long start = System.nanoTime();
        go.countDown();
        Thread.sleep(millis);
        stop.set(true);
        for (Thread w : workers) {
            w.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return ops.sum() / seconds;
    }

    /**
     * Runs the benchmark.
     *
     * @param args seconds per round, rounds, threads (all optional)
     * @throws InterruptedException if interrupted
     */
    public static void main(String[] args) throws InterruptedException {
        long millis = (long) (1000 * (args.length > 0 ? Double.parseDouble(args[0]) : 2));
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        System.out.printf("sessionstore %s: set+get of a short String, %d threads, one session each, "
                + "%d cores, best of %d rounds of %d ms%n", StoreFactory.version(), threads,
                Runtime.getRuntime().availableProcessors(), rounds, millis);
        List<String> parts = Arrays.asList((args.length > 3 ? args[3] : "memory,redis,near").split(","));
        if (parts.contains("memory")) {
            memory(threads, rounds, millis);
        }
        if (parts.contains("redis") || parts.contains("near")) {
            redis(threads, rounds, millis, parts.contains("redis"), parts.contains("near"));
        }
    }

    /** Best ops/s of each side over {@code rounds} alternating rounds, after a warm-up of each. */
    @SafeVarargs
    static double[] compare(int threads, int rounds, long millis, IntFunction<Session>... sides)
            throws InterruptedException {
        for (IntFunction<Session> side : sides) {
            run(side, threads, millis);
        }
        double[] best = new double[sides.length];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < sides.length; i++) {
                best[i] = Math.max(best[i], run(sides[i], threads, millis));
            }
        }
        return best;
    }

    static void redis(int threads, int rounds, long millis, boolean vsRedisson, boolean near)
            throws InterruptedException {
        Path dir;
        int port;
        Process server;
        try {
            dir = Files.createTempDirectory("sessionstore-bench-redis");
            try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = probe.getLocalPort();
            }
            server = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir.toString(),
                    "--logfile", dir.resolve("log").toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("out").toFile()).start();
        } catch (IOException e) {
            System.out.println("  redis: skipped, cannot start redis-server (" + e.getMessage() + ")");
            return;
        }
        Thread stopper = new Thread(() -> stop(server, dir));
        Runtime.getRuntime().addShutdownHook(stopper);
        try {
            String url = "redis://127.0.0.1:" + port;
            waitForServer(url);
            System.out.printf("redis-server pid %d on 127.0.0.1:%d (no persistence)%n", server.pid(), port);
            if (near) {
                near(url, threads, rounds, millis);
            }
            if (!vsRedisson) {
                return;
            }
            Config config = new Config();
            config.useSingleServer().setAddress("redis://127.0.0.1:" + port);
            RedissonClient redisson = Redisson.create(config);
            try (StoreFactory factory = StoreFactory.open(url + "?prefix=bench")) {
                Store[] stores = new Store[threads];
                for (int t = 0; t < threads; t++) {
                    stores[t] = factory.createStore("bench-" + t);
                }
                double[] best = compare(threads, rounds, millis, t -> new StoreSession(stores[t]),
                        t -> new RedissonSession(redisson, "redisson-bench-" + t, false),
                        t -> new RedissonSession(redisson, "redisson-fast-bench-" + t, true));
                System.out.printf("  sessionstore redis://           %,14.0f ops/s%n", best[0]);
                System.out.printf("  Redisson RMap put/get           %,14.0f ops/s  (socketio4j's RedisStore)%n", best[1]);
                System.out.printf("  Redisson RMap fastPut/get       %,14.0f ops/s  (for reference: HSET, no old value)%n",
                        best[2]);
                System.out.printf("  ratio: sessionstore is %.2fx Redisson's put/get ops/s (target: at least 1.5x), "
                        + "%.2fx its fastPut/get%n", best[0] / best[1], best[0] / best[2]);
                for (Store s : stores) {
                    s.destroy();
                    s.close();
                }
            } finally {
                redisson.shutdown();
            }
        } finally {
            stop(server, dir);
            Runtime.getRuntime().removeShutdownHook(stopper);
        }
    }

    /** Waits (bounded) until the server answers. */
    private static void waitForServer(String url) throws InterruptedException {
        RuntimeException last = null;
        for (int i = 0; i < 100; i++) {
            try (StoreFactory f = StoreFactory.open(url + "?timeout_ms=200"); Store s = f.createStore("ping")) {
                s.has("ping");
                return;
            } catch (RuntimeException e) {
                last = e;
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("redis-server did not come up", last);
    }

    /** Stops the server by its PID (its Process), then removes its folder. */
    private static void stop(Process server, Path dir) {
        server.destroy();
        try {
            if (!server.waitFor(5, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            server.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // A temp folder left behind is harmless.
        }
    }

    /** Hot reads through the near cache beside the same reads on memory://. */
    static void near(String url, int threads, int rounds, long millis) throws InterruptedException {
        try (StoreFactory nearFactory = StoreFactory.open(url + "?prefix=bench-near&near_cache=1000");
                StoreFactory memory = StoreFactory.open("memory://")) {
            Store[] cached = new Store[threads];
            Store[] local = new Store[threads];
            for (int t = 0; t < threads; t++) {
                cached[t] = nearFactory.createStore("bench-near-" + t);
                local[t] = memory.createStore("bench-near-" + t);
                fill(cached[t]);
                fill(local[t]);
            }
            double[] best = compare(threads, rounds, millis, t -> new ReadOnly(new StoreSession(cached[t])),
                    t -> new ReadOnly(new StoreSession(local[t])));
            System.out.printf("  sessionstore near cache get     %,14.0f reads/s%n", best[0] / 2);
            System.out.printf("  sessionstore memory:// get      %,14.0f reads/s%n", best[1] / 2);
            System.out.printf("  ratio: the near cache reads at %.2fx memory's rate (target: at least 0.8x)%n",
                    best[0] / best[1]);
            for (Store s : cached) {
                s.destroy();
                s.close();
            }
        }
    }

    static void memory(int threads, int rounds, long millis) throws InterruptedException {
        try (StoreFactory factory = StoreFactory.open("memory://")) {
            Store[] stores = new Store[threads];
            for (int t = 0; t < threads; t++) {
                stores[t] = factory.createStore("bench-" + t);
            }
            double[] best = compare(threads, rounds, millis, t -> new StoreSession(stores[t]), t -> new MapSession());
            double bestOurs = best[0];
            double bestMap = best[1];
            System.out.printf("  sessionstore memory://          %,14.0f ops/s%n", bestOurs);
            System.out.printf("  ConcurrentHashMap (MemoryStore) %,14.0f ops/s%n", bestMap);
            System.out.printf("  ratio: sessionstore is %.1fx slower than ConcurrentHashMap (target: under 10x)%n",
                    bestMap / bestOurs);
            for (Store s : stores) {
                s.destroy();
                s.close();
            }
        }
    }
}
