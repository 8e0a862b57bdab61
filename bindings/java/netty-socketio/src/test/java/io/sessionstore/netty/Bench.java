package io.sessionstore.netty;

import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.SocketIOServer;
import com.corundumstudio.socketio.store.MemoryStoreFactory;
import com.corundumstudio.socketio.store.RedissonStoreFactory;
import com.corundumstudio.socketio.store.StoreFactory;

import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Socket;
import io.socket.engineio.client.transports.WebSocket;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.redisson.Redisson;
import org.redisson.config.Config;

/**
 * {@code make bench-netty}: real Socket.IO clients (websocket) doing request/ack round trips on
 * a real netty-socketio server whose listener reads and writes two session keys per event, on
 * netty-socketio's own {@code RedissonStoreFactory} and on {@link SessionStoreFactory}, same
 * redis-server (started here on a free 127.0.0.1 port, stopped by its PID), same run; then ours
 * on {@code memory://} beside netty-socketio's {@code MemoryStoreFactory}. Each round measures
 * every side once, in alternating order, after a warm-up round that is not counted; prints each
 * round, then the median events/s and p99 latency per side and their ratios, the time the
 * listener spends in its four store calls, the CPU time the server's event loop threads spend per
 * event (which the machine's other load does not inflate as it does wall-clock rates), and how
 * many sessions each factory left in Redis.
 *
 * <p>{@code java ... io.sessionstore.netty.Bench [SECONDS [ROUNDS [CLIENTS]]]} (default 5 5 16).
 */
public final class Bench {
    private static final String PREFIX = "bench";

    /** One side: a server on a factory, and what its rounds measured. */
    private static final class Side {
        final String name;
        final SocketIOServer server;
        final int port;
        final List<double[]> rounds = new ArrayList<>(); // {events/s, p99 ms, store µs/event, server CPU µs/event}
        /** The event loop threads that ran the listener: the server's CPU is theirs. */
        final Set<Long> workers = ConcurrentHashMap.newKeySet();
        private final ThreadLocal<Boolean> known = ThreadLocal.withInitial(() -> false);
        /** Time spent in the listener's four store calls, apart from everything else an event costs. */
        final LongAdder storeNanos = new LongAdder();
        final LongAdder storeEvents = new LongAdder();

        Side(String name, StoreFactory factory) throws IOException {
            this.name = name;
            this.port = freePort();
            Configuration config = new Configuration();
            config.setHostname("127.0.0.1");
            config.setPort(port);
            config.setRandomSession(true);
            config.setStoreFactory(factory);
            server = new SocketIOServer(config);
            server.addEventListener("bump", String.class, (client, data, ack) -> {
                long start = System.nanoTime();
                Integer count = client.get("count");
                String user = client.get("user");
                client.set("count", count == null ? 1 : count + 1);
                client.set("user", user == null ? client.getSessionId().toString() : user);
                storeNanos.add(System.nanoTime() - start);
                storeEvents.increment();
                if (!known.get()) {
                    known.set(true);
                    workers.add(Thread.currentThread().getId());
                }
                ack.sendAckData(count == null ? 0 : count);
            });
            server.start();
        }

        double median(int field) {
            double[] v = rounds.stream().mapToDouble(r -> r[field]).sorted().toArray();
            return v[v.length / 2];
        }
    }

    /** One client's closed loop: the next event goes when the last one's ack is in. */
    private static final class Loop {
        final Socket socket;
        final long[] latencies;
        int count;
        volatile boolean measuring;
        volatile boolean running = true;
        final CountDownLatch stopped;

        Loop(Socket socket, int capacity, CountDownLatch stopped) {
            this.socket = socket;
            this.latencies = new long[capacity];
            this.stopped = stopped;
        }

        /** Runs on the client library's event thread, as its acks do. */
        void fire() {
            long start = System.nanoTime();
            socket.emit("bump", "", (Ack) args -> {
                if (measuring && count < latencies.length) {
                    latencies[count++] = System.nanoTime() - start;
                }
                if (running) {
                    fire();
                } else {
                    stopped.countDown();
                }
            });
        }
    }

    private Bench() {}

    /**
     * Runs the benchmark.
     *
     * @param args seconds per measurement, rounds, clients
     * @throws Exception if a server or client fails
     */
    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int clients = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        int redisPort = freePort();
        Path dir = Files.createTempDirectory("bench-netty-redis");
        Process redis = new ProcessBuilder("redis-server", "--port", Integer.toString(redisPort), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString())
                .redirectOutput(dir.resolve("log").toFile()).redirectErrorStream(true).start();
        List<Side> sides = new ArrayList<>();
        try {
            String redisUrl = "redis://127.0.0.1:" + redisPort;
            Eventually.await("redis-server on " + redisPort + " answers", () -> answers(redisPort));
            Config redisson = new Config();
            redisson.useSingleServer().setAddress(redisUrl);
            Side redissonSide = new Side("RedissonStoreFactory", new RedissonStoreFactory(Redisson.create(redisson)));
            Side oursRedis = new Side("SessionStoreFactory redis://", new SessionStoreFactory(redisUrl + "?prefix=" + PREFIX));
            Side memory = new Side("MemoryStoreFactory", new MemoryStoreFactory());
            Side oursMemory = new Side("SessionStoreFactory memory://", new SessionStoreFactory("memory://"));
            sides.addAll(List.of(redissonSide, oursRedis, memory, oursMemory));
            System.out.printf("%d clients (websocket), %d s per measurement after 1 s of warm-up, %d rounds, %d cores%n",
                    clients, seconds, rounds, Runtime.getRuntime().availableProcessors());
            System.out.println("server CPU: netty-socketio's event loop threads only (Redisson's own I/O threads are not"
                    + " in it, so on Redis it understates RedissonStoreFactory)");
            for (int round = 0; round <= rounds; round++) {
                List<Side> order = round % 2 == 1 ? sides : List.of(oursRedis, redissonSide, oursMemory, memory);
                for (Side side : order) {
                    double[] r = measure(side, clients, seconds);
                    // Round 0 warms the JIT up on every side and is not counted.
                    if (round > 0) {
                        side.rounds.add(r);
                    }
                    System.out.printf("round %d  %-30s %7.0f events/s  p99 %6.2f ms  store calls %6.1f µs  server CPU %6.1f µs"
                            + " /event%s%n", round, side.name, r[0], r[1], r[2], r[3], round == 0 ? "  (warm-up)" : "");
                }
            }
            System.out.println();
            compare(oursRedis, redissonSide);
            compare(oursMemory, memory);
            System.out.printf("keys left in redis after every client left: RedissonStoreFactory %d, SessionStoreFactory %d%n",
                    RawRedis.keysMatching(redisUrl, "*").size() - RawRedis.keys(redisUrl, PREFIX).size(),
                    RawRedis.keys(redisUrl, PREFIX).size());
        } finally {
            List<Thread> stopping = new ArrayList<>();
            for (Side side : sides) {
                Thread t = new Thread(side.server::stop);
                t.start();
                stopping.add(t);
            }
            for (Thread t : stopping) {
                t.join();
            }
            redis.destroy();
            if (!redis.waitFor(10, TimeUnit.SECONDS)) {
                redis.destroyForcibly();
            }
        }
        System.exit(0);
    }

    private static void compare(Side ours, Side theirs) {
        for (Side side : List.of(ours, theirs)) {
            System.out.printf("%-30s %7.0f events/s  p99 %6.2f ms  store calls %6.1f µs  server CPU %6.1f µs /event"
                    + " (medians of rounds)%n", side.name, side.median(0), side.median(1), side.median(2), side.median(3));
        }
        // Each round measures both sides back to back, so their ratio within a round is the least
        // disturbed by the machine's other load.
        double[] paired = new double[ours.rounds.size()];
        for (int i = 0; i < paired.length; i++) {
            paired[i] = ours.rounds.get(i)[0] / theirs.rounds.get(i)[0];
        }
        Arrays.sort(paired);
        System.out.printf("ratio: %.2fx events/s (median of the rounds' own ratios %.2fx), p99 %.2fx, server CPU per event"
                + " %.2fx%n%n", ours.median(0) / theirs.median(0), paired[paired.length / 2], ours.median(1) / theirs.median(1),
                ours.median(3) / theirs.median(3));
    }

    /** Connects the clients, warms up for a second, measures, stops them and disconnects. */
    private static double[] measure(Side side, int clients, int seconds) throws Exception {
        CountDownLatch stopped = new CountDownLatch(clients);
        List<Loop> loops = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            loops.add(new Loop(connect(side.port), 200_000, stopped));
        }
        loops.forEach(Loop::fire);
        Thread.sleep(1000);
        side.storeNanos.reset();
        side.storeEvents.reset();
        long cpuBefore = cpuNanos(side.workers);
        loops.forEach(l -> l.measuring = true);
        long start = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        loops.forEach(l -> l.measuring = false);
        double elapsed = (System.nanoTime() - start) / 1e9;
        long serverCpu = cpuNanos(side.workers) - cpuBefore;
        double storeMicros = side.storeNanos.sum() / 1e3 / Math.max(1, side.storeEvents.sum());
        loops.forEach(l -> l.running = false);
        if (!stopped.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(side.name + ": clients did not stop");
        }
        loops.forEach(l -> l.socket.disconnect());
        long[] all = loops.stream().flatMapToLong(l -> Arrays.stream(l.latencies, 0, l.count)).sorted().toArray();
        return new double[] {all.length / elapsed, all[(int) (all.length * 0.99)] / 1e6, storeMicros,
            serverCpu / 1e3 / Math.max(1, all.length)};
    }

    /** The CPU time the threads have used so far (what other processes take is not in it). */
    private static long cpuNanos(Set<Long> threads) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long id : threads) {
            sum += Math.max(0, mx.getThreadCpuTime(id));
        }
        return sum;
    }

    private static Socket connect(int port) throws Exception {
        IO.Options options = IO.Options.builder().setForceNew(true).setReconnection(false)
                .setTransports(new String[] {WebSocket.NAME}).build();
        Socket socket = IO.socket(URI.create("http://127.0.0.1:" + port), options);
        CompletableFuture<Void> connected = new CompletableFuture<>();
        socket.once(Socket.EVENT_CONNECT, a -> connected.complete(null));
        socket.once(Socket.EVENT_CONNECT_ERROR, a -> connected.completeExceptionally(new IOException("connect error")));
        socket.connect();
        connected.get(20, TimeUnit.SECONDS);
        return socket;
    }

    private static boolean answers(int port) {
        try (java.net.Socket s = new java.net.Socket()) { // not the Socket.IO client's Socket
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            return s.getInputStream().read() == '+';
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
