package io.sessionstore;

import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * Opens {@link Store}s on one configured backend: one factory per process and configuration,
 * one store per connected client session.
 *
 * <pre>{@code
 * try (StoreFactory factory = StoreFactory.open("memory://")) {
 *     Store store = factory.createStore(UUID.randomUUID());
 *     store.set("userId", 42);
 *     Integer id = store.get("userId");
 * }
 * }</pre>
 *
 * <p>The url picks the backend and its options (docs/API.md §1): {@code memory://} (or the empty
 * string) keeps sessions in this process; {@code redis://…}, {@code rediss://…},
 * {@code redis+sentinel://…} and {@code redis+cluster://…} share them between processes and
 * languages. Options ride on the query string: {@code prefix}, {@code timeout_ms},
 * {@code ttl_ms}, {@code max_value_bytes}.
 *
 * <p>Thread-safe. {@link #close()} is idempotent; afterwards the factory and every store it
 * opened throw {@link FactoryClosedException}. A factory that becomes unreachable without being
 * closed is closed by a {@link Cleaner}, but only once none of its stores is reachable either.
 */
public final class StoreFactory implements AutoCloseable {
    private final NativeHandleGuard.Handle handle;
    private final Cleaner.Cleanable cleanable;
    private final StoreOptions options;
    private final ValueCodec codec;
    private final String description;

    private StoreFactory(long handle, StoreOptions options) {
        this.handle = new NativeHandleGuard.Handle(handle, Native::factoryClose,
                () -> new FactoryClosedException("the store factory is closed"));
        this.cleanable = NativeHandleGuard.CLEANER.register(this, this.handle);
        this.options = options;
        this.codec = new ValueCodec(options.serialFilter());
        this.description = new String(Native.factoryDescribe(handle), StandardCharsets.UTF_8);
    }

    /**
     * Opens a factory with the default options (Java serialization off).
     *
     * @param url the backend and its options, e.g. {@code "memory://"} or
     *     {@code "redis://127.0.0.1:6379/0?ttl_ms=60000"}
     * @return the open factory
     * @throws NullPointerException if {@code url} is null
     * @throws IllegalArgumentException if the url is malformed, names an unknown option or one
     *     out of range
     * @throws StoreBackendException if the backend cannot be reached
     */
    public static StoreFactory open(String url) {
        return open(url, StoreOptions.defaults());
    }

    /**
     * Opens a factory with Java-side options, e.g. Java serialization with an allow-list.
     *
     * @param url the backend and its options, as for {@link #open(String)}
     * @param options the Java-side options
     * @return the open factory
     * @throws NullPointerException if {@code url} or {@code options} is null
     * @throws IllegalArgumentException if the url is malformed, names an unknown option or one
     *     out of range
     * @throws StoreBackendException if the backend cannot be reached
     */
    public static StoreFactory open(String url, StoreOptions options) {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(options, "options");
        return new StoreFactory(Native.factoryOpen(url), options);
    }

    /**
     * The version of the native library.
     *
     * @return e.g. {@code "0.1.0"}
     */
    public static String version() {
        return new String(Native.version(), StandardCharsets.UTF_8);
    }

    /**
     * Opens a store on a session, attaching to its data when it has some (another node, or a
     * reconnect, wrote it) and starting an empty session otherwise.
     *
     * @param sessionId the session, e.g. a client's UUID
     * @return a store on the session; close it when the connection ends
     * @throws NullPointerException if {@code sessionId} is null
     * @throws FactoryClosedException if this factory was closed
     * @throws StoreBackendException if the backend cannot be reached
     */
    public Store createStore(UUID sessionId) {
        return createStore(Objects.requireNonNull(sessionId, "sessionId").toString());
    }

    /**
     * Opens a store on a session given as text: 1 to 128 characters of
     * {@code [A-Za-z0-9._~:-]} (a UUID's text form and Socket.IO sids fit).
     *
     * @param sessionId the session id
     * @return a store on the session; close it when the connection ends
     * @throws NullPointerException if {@code sessionId} is null
     * @throws IllegalArgumentException if {@code sessionId} is not a valid session id
     * @throws FactoryClosedException if this factory was closed
     * @throws StoreBackendException if the backend cannot be reached
     */
    public Store createStore(String sessionId) {
        Objects.requireNonNull(sessionId, "sessionId");
        try (NativeHandleGuard guard = new NativeHandleGuard(this, handle)) {
            long store = Native.storeOpen(guard.nativeHandle(), sessionId);
            return new Store(this, sessionId, store, codec);
        }
    }

    /**
     * Deletes a session's data everywhere (on disconnect): every store open on it, on every
     * node, then throws {@link StoreDestroyedException}.
     *
     * @param sessionId the session
     * @throws NullPointerException if {@code sessionId} is null
     * @throws FactoryClosedException if this factory was closed
     * @throws StoreBackendException if the backend cannot be reached
     */
    public void destroySession(UUID sessionId) {
        destroySession(Objects.requireNonNull(sessionId, "sessionId").toString());
    }

    /**
     * Deletes a session's data everywhere, the session given as text.
     *
     * @param sessionId the session id
     * @throws NullPointerException if {@code sessionId} is null
     * @throws IllegalArgumentException if {@code sessionId} is not a valid session id
     * @throws FactoryClosedException if this factory was closed
     * @throws StoreBackendException if the backend cannot be reached
     */
    public void destroySession(String sessionId) {
        Objects.requireNonNull(sessionId, "sessionId");
        try (NativeHandleGuard guard = new NativeHandleGuard(this, handle)) {
            Native.factoryDestroySession(guard.nativeHandle(), sessionId);
        }
    }

    /**
     * The factory's counters since it opened (docs/API.md §12): {@code "calls"} (a map of
     * operation — {@code open}, {@code get}, {@code set}, {@code has}, {@code del},
     * {@code len}, {@code keys}, {@code get_all}, {@code set_many}, {@code replace_all}, {@code destroy},
     * {@code destroy_session} — to its count, failed calls included), {@code "errors"}
     * (failed calls by the core's error kind, {@code "Timeout"}, {@code "Backend"}…),
     * {@code "latency_us"} ({@code count}, {@code p50}, {@code p99}, {@code max} of the remote
     * calls, in µs), {@code "open_stores"}, and {@code "lease"} ({@code rounds},
     * {@code renewals}, {@code overruns} of the lease refresher). Counts are {@code Integer}s
     * or {@code Long}s: read them as {@link Number}s.
     *
     * @return an unmodifiable snapshot
     * @throws FactoryClosedException if this factory was closed
     */
    @SuppressWarnings("unchecked")
    public Map<String, Object> stats() {
        try (NativeHandleGuard guard = new NativeHandleGuard(this, handle)) {
            return (Map<String, Object>) codec.decode(Native.factoryStats(guard.nativeHandle()));
        }
    }

    /**
     * The factory's url with any password replaced by {@code ***}.
     *
     * @return e.g. {@code redis://app:***@cache:6379}
     */
    public String url() {
        return description;
    }

    /**
     * The options this factory was opened with.
     *
     * @return the options
     */
    public StoreOptions options() {
        return options;
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return handle.get() == 0;
    }

    /**
     * Closes the factory: its connections and background work stop, every store it opened then
     * throws {@link FactoryClosedException}, and with {@code memory://} the data goes. Closing
     * twice is a no-op.
     */
    @Override
    public void close() {
        cleanable.clean();
    }

    /**
     * The factory's url with any password replaced by {@code ***}.
     *
     * @return e.g. {@code StoreFactory[memory://]}
     */
    @Override
    public String toString() {
        return "StoreFactory[" + description + (isClosed() ? ", closed]" : "]");
    }

    /** The native handle (for the boundary tests); throws once closed. */
    long nativeHandle() {
        return handle.require();
    }
}
