package io.sessionstore;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The baseline of the Hazelcast benchmark, a benchmark, not a test ({@code make bench-hazelcast},
 * {@code scripts/bench-hazelcast.sh}): Hazelcast's official Java client doing what
 * {@code benches/capi.c} does through our C ABI, on the same member: {@code IMap.set} and
 * {@code IMap.get} of a 16-byte value (two, alternating, so that every set changes it),
 * sequentially on one key, then from THREADS threads each on its own key, all sharing one client
 * (smart routing, its default). Then the sets again with a 60 s TTL ({@code seq_set_ttl},
 * {@code par_set_ttl}), beside our sets with a lease.
 *
 * <p>Arguments: {@code HAZELCAST_URL SEQ_OPS THREADS OPS_PER_THREAD}. Prints one line per
 * measurement, as {@code capi.c} does: {@code <name> <ops> <seconds> <ops/s> <us/op>}. The
 * warm-up is a whole sequential round of each operation, so that the JIT has compiled the
 * client's paths before they are timed.
 */
public final class HazelcastBench {
    private static final byte[] VALUE = "value-of-16-byte".getBytes(StandardCharsets.US_ASCII);
    /** Sets alternate between {@link #VALUE} and this one, as {@code capi.c}'s do. */
    private static final byte[] OTHER = "other-16-byte-vl".getBytes(StandardCharsets.US_ASCII);

    private HazelcastBench() {}

    /** Runs the benchmark; see the class comment for the arguments. */
    public static void main(String[] args) throws InterruptedException {
        if (args.length != 4) {
            System.err.println("usage: HazelcastBench HAZELCAST_URL SEQ_OPS THREADS OPS_PER_THREAD");
            System.exit(2);
        }
        long seq = Long.parseLong(args[1]);
        int threads = Integer.parseInt(args[2]);
        long perThread = Long.parseLong(args[3]);
        HazelcastInstance client = OfficialClient.connect(args[0]);
        try {
            IMap<String, byte[]> map = client.getMap("official-bench");
            run(map, "bench-seq", seq, true);
            run(map, "bench-seq", seq, false);
            report("seq_set", seq, time(() -> run(map, "bench-seq", seq, true)));
            report("seq_get", seq, time(() -> run(map, "bench-seq", seq, false)));
            report("par_set", perThread * threads, threaded(map, threads, perThread, true));
            report("par_get", perThread * threads, threaded(map, threads, perThread, false));
            ttl = true;
            run(map, "bench-seq", seq, true);
            report("seq_set_ttl", seq, time(() -> run(map, "bench-seq", seq, true)));
            report("par_set_ttl", perThread * threads, threaded(map, threads, perThread, true));
            map.destroy();
        } finally {
            client.shutdown();
        }
    }

    /** Whether sets give the entry a TTL (the *_ttl measurements, beside our leased sets). */
    private static volatile boolean ttl;

    private static void run(IMap<String, byte[]> map, String key, long ops, boolean set) {
        for (long i = 0; i < ops; i++) {
            if (set && ttl) {
                map.set(key, i % 2 == 0 ? VALUE : OTHER, 60, TimeUnit.SECONDS);
            } else if (set) {
                map.set(key, i % 2 == 0 ? VALUE : OTHER);
            } else if (map.get(key) == null) {
                throw new IllegalStateException("get: no value under " + key);
            }
        }
    }

    private static double time(Runnable body) {
        long start = System.nanoTime();
        body.run();
        return (System.nanoTime() - start) / 1e9;
    }

    /** Seconds for THREADS threads doing OPS each, each on its own key (written first). */
    private static double threaded(IMap<String, byte[]> map, int threads, long ops, boolean set)
            throws InterruptedException {
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String key = "bench-t" + t;
            map.set(key, VALUE);
            all.add(new Thread(() -> run(map, key, ops, set)));
        }
        long start = System.nanoTime();
        all.forEach(Thread::start);
        for (Thread t : all) {
            t.join();
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static void report(String name, long ops, double secs) {
        System.out.printf("%s %d %.3f %.0f %.2f%n", name, ops, secs, ops / secs, secs * 1e6 / ops);
    }
}
