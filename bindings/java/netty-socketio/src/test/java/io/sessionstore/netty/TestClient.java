package io.sessionstore.netty;

import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Manager;
import io.socket.client.Socket;
import io.socket.engineio.client.transports.Polling;
import io.socket.engineio.client.transports.WebSocket;

import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;

import org.json.JSONObject;

/**
 * A real Socket.IO client ({@code io.socket:socket.io-client}, Engine.IO 4) on one transport,
 * without reconnection, whose calls wait a bounded time for their ack.
 */
final class TestClient implements AutoCloseable {
    static final String WEBSOCKET = WebSocket.NAME;
    static final String POLLING = Polling.NAME;
    private static final long WAIT_SECONDS = 20;

    static {
        // One HTTP client for every test client, with daemon threads and no per-host limit
        // (OkHttp's default of 5 would queue the long polls of the sixth polling client on).
        Dispatcher dispatcher = new Dispatcher(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "test-client-http");
            t.setDaemon(true);
            return t;
        }));
        dispatcher.setMaxRequests(1000);
        dispatcher.setMaxRequestsPerHost(1000);
        // A read timeout of a minute, as socket.io-client-java advises for polling: a long poll
        // waits for the server's next packet, up to its ping interval (25 s), and OkHttp's
        // default of 10 s ended such a poll as a transport error.
        OkHttpClient http = new OkHttpClient.Builder().dispatcher(dispatcher)
                .readTimeout(1, TimeUnit.MINUTES)
                .build();
        IO.setDefaultOkHttpWebSocketFactory(http);
        IO.setDefaultOkHttpCallFactory(http);
    }

    private final Socket socket;
    final String transport;
    /** Why the connection ended under the client, once it did (null while it holds). */
    private volatile String lostWith;
    /** The transport's last error, if any. */
    private volatile String transportError;

    private TestClient(Socket socket, String transport) {
        this.socket = socket;
        this.transport = transport;
        socket.on(Socket.EVENT_DISCONNECT, args -> lostWith = args.length > 0 ? String.valueOf(args[0]) : "no reason");
        // The transport's own error (an HTTP status, an I/O error), which the disconnect's
        // reason ("transport error") does not say.
        socket.io().on(Manager.EVENT_ERROR, args -> {
            Object e = args.length > 0 ? args[0] : null;
            Throwable cause = e instanceof Throwable ? ((Throwable) e).getCause() : null;
            transportError = cause == null ? String.valueOf(e) : e + " caused by " + cause;
        });
    }

    /** Connects to 127.0.0.1:port over one transport; {@code query} may be empty. */
    static TestClient connect(int port, String transport, String query) throws Exception {
        IO.Options options = IO.Options.builder()
                .setForceNew(true)
                .setReconnection(false)
                .setTransports(new String[] {transport})
                .setUpgrade(false)
                .setQuery(query)
                .build();
        Socket socket = IO.socket(URI.create("http://127.0.0.1:" + port), options);
        CompletableFuture<Void> connected = new CompletableFuture<>();
        socket.once(Socket.EVENT_CONNECT, args -> connected.complete(null));
        socket.once(Socket.EVENT_CONNECT_ERROR, args -> connected.completeExceptionally(
                new IllegalStateException("connect error: " + (args.length > 0 ? args[0] : ""))));
        socket.connect();
        TestClient client = new TestClient(socket, transport);
        try {
            await(connected, "connect over " + transport);
        } catch (Exception e) {
            socket.close();
            throw e;
        }
        return client;
    }

    /** Emits an event and returns its ack's arguments. */
    Object[] call(String event, Object... args) throws Exception {
        CompletableFuture<Object[]> reply = new CompletableFuture<>();
        Object[] withAck = new Object[args.length + 1];
        System.arraycopy(args, 0, withAck, 0, args.length);
        withAck[args.length] = (Ack) reply::complete;
        socket.emit(event, withAck);
        try {
            return await(reply, "the ack of '" + event + "'");
        } catch (AssertionError late) {
            String lost = lostWith;
            throw lost == null ? late : new AssertionError(late.getMessage() + "; the connection ended: " + lost
                    + (transportError == null ? "" : " (" + transportError + ")"), late);
        }
    }

    /** Stores a value through the server's {@code set} event (the value goes as JSON). */
    void set(String key, Object value) throws Exception {
        call("set", new JSONObject().put("key", key).put("value", value));
    }

    /** The session UUID the server gave this client. */
    String sessionId() throws Exception {
        return (String) call("whoami", "")[0];
    }

    /** A future of the next event of that name. */
    CompletableFuture<Object[]> next(String event) {
        CompletableFuture<Object[]> f = new CompletableFuture<>();
        socket.once(event, f::complete);
        return f;
    }

    /** The future's value within the bound. */
    static <T> T await(CompletableFuture<T> f) throws Exception {
        return await(f, "an answer");
    }

    /** The future's value within the bound; {@code what} names it in the timeout's message. */
    static <T> T await(CompletableFuture<T> f, String what) throws Exception {
        try {
            return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            // The future's own failure, unwrapped: an Exception (a connect error) or an Error
            // (an assertion of the task that completed it).
            Throwable cause = e.getCause();
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw cause instanceof Exception ? (Exception) cause : e;
        } catch (TimeoutException e) {
            printServerThreads(what);
            throw new AssertionError("no " + what + " within " + WAIT_SECONDS + " s", e);
        }
    }

    /**
     * What the servers' threads (they run in this JVM) are doing when an answer is late, to
     * stderr: a call stuck in the store shows there; idle event loops mean the packet was lost.
     */
    private static void printServerThreads(String what) {
        StringBuilder dump = new StringBuilder("no " + what + " within " + WAIT_SECONDS + " s; the servers' threads:\n");
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            if (thread.getName().startsWith("nioEventLoopGroup")) {
                dump.append(thread.getName()).append(' ').append(thread.getState()).append('\n');
                for (StackTraceElement frame : stack) {
                    dump.append("\tat ").append(frame).append('\n');
                }
            }
        });
        System.err.print(dump);
    }

    /** Disconnects cleanly: the client tells the server it leaves. */
    @Override
    public void close() {
        socket.disconnect();
    }
}
