package io.sessionstore;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;

/**
 * A benchmark, not a test (`make bench-java`): set and get of a short String from 8 threads,
 * each on its own session (one store per client, as a Socket.IO server does), through our
 * {@link Store} on {@code memory://} and through socketio4j's kind of MemoryStore (a
 * {@link ConcurrentHashMap} per session), in the same run. Each side gets a warm-up, then the
 * best of several timed rounds, alternating sides so that both see the same machine load.
 *
 * <p>Arguments (optional): seconds per round (default 2), rounds (default 3), threads (default 8).
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
        try (StoreFactory factory = StoreFactory.open("memory://")) {
            Store[] stores = new Store[threads];
            for (int t = 0; t < threads; t++) {
                stores[t] = factory.createStore("bench-" + t);
            }
            IntFunction<Session> ours = t -> new StoreSession(stores[t]);
            IntFunction<Session> map = t -> new MapSession();
            // Warm-up: let the JIT compile both paths.
            run(ours, threads, millis);
            run(map, threads, millis);
            double bestOurs = 0;
            double bestMap = 0;
            for (int r = 0; r < rounds; r++) {
                bestOurs = Math.max(bestOurs, run(ours, threads, millis));
                bestMap = Math.max(bestMap, run(map, threads, millis));
            }
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
