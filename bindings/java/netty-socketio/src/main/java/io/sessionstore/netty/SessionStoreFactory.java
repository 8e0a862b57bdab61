package io.sessionstore.netty;

import com.corundumstudio.socketio.handler.AuthorizeHandler;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.namespace.NamespacesHub;
import com.corundumstudio.socketio.protocol.JsonSupport;
import com.corundumstudio.socketio.store.MemoryPubSubStore;
import com.corundumstudio.socketio.store.Store;
import com.corundumstudio.socketio.store.pubsub.BaseStoreFactory;
import com.corundumstudio.socketio.store.pubsub.PubSubStore;

import io.sessionstore.FactoryClosedException;
import io.sessionstore.StoreFactory;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongFunction;

/**
 * A netty-socketio {@link com.corundumstudio.socketio.store.StoreFactory} whose session stores
 * are sessionstore's: {@code client.set/get/has/del} reach the session's
 * {@link io.sessionstore.Store} (its id the client's session UUID), on memory or Redis.
 *
 * <pre>{@code
 * Configuration config = new Configuration();
 * config.setRandomSession(true);
 * config.setStoreFactory(new SessionStoreFactory("redis://127.0.0.1:6379/0?ttl_ms=60000"));
 * }</pre>
 *
 * <p>A session's store opens at the handshake (its {@code AuthorizationResult} store params go
 * in) and is destroyed after the application's {@code DisconnectListener}s ran, so they still
 * read it; with the url option {@code ttl_ms}, the sessions of a node that died vanish within
 * {@code ttl_ms}. Values are the core's portable types (an {@code Integer} reads back as an
 * {@code Integer}, nested maps and lists work); other {@code Serializable} objects only through a
 * core factory opened with {@code StoreOptions.withJavaSerialization}. Errors are the core's
 * exceptions.
 *
 * <p>Room and broadcast traffic between nodes goes through the {@link PubSubStore} the
 * constructor's function makes from this factory's node id; the default, netty-socketio's
 * {@link MemoryPubSubStore}, serves one node.
 *
 * <p>Thread-safe: netty-socketio calls {@link #createStore(UUID)} on its event loops.
 */
public final class SessionStoreFactory extends BaseStoreFactory {
    private final StoreFactory factory;
    private final boolean ownsFactory;
    private final PubSubStore pubSub;
    private final Set<SessionStore> open = ConcurrentHashMap.newKeySet();
    private final ConcurrentMap<String, Map<?, ?>> maps = new ConcurrentHashMap<>();
    private final AtomicBoolean shutDown = new AtomicBoolean();
    private final RandomSessionWarning warning = new RandomSessionWarning();

    /**
     * A factory on a url, for one node: pub/sub is netty-socketio's {@link MemoryPubSubStore}.
     *
     * @param url the backend and its options, as {@link StoreFactory#open(String)} takes it,
     *     e.g. {@code "redis://127.0.0.1:6379/0?ttl_ms=60000"}
     * @throws NullPointerException if {@code url} is null
     * @throws IllegalArgumentException if the url is malformed or names a bad option
     * @throws io.sessionstore.StoreBackendException if the backend cannot be reached
     */
    public SessionStoreFactory(String url) {
        this(url, nodeId -> new MemoryPubSubStore());
    }

    /**
     * A factory on a url with the pub/sub of several nodes, e.g.
     * {@code nodeId -> new RedissonPubSubStore(redisson, redisson, nodeId)}.
     *
     * @param url the backend and its options, as {@link StoreFactory#open(String)} takes it
     * @param pubSub makes the pub/sub store from this factory's node id; called once, here
     * @throws NullPointerException if {@code url} or {@code pubSub} is null, or {@code pubSub}
     *     returns null
     * @throws IllegalArgumentException if the url is malformed or names a bad option
     * @throws io.sessionstore.StoreBackendException if the backend cannot be reached
     */
    public SessionStoreFactory(String url, LongFunction<PubSubStore> pubSub) {
        this(Objects.requireNonNull(pubSub, "pubSub"), StoreFactory.open(url), true);
    }

    /**
     * A factory over an open core factory, for one node; {@link #shutdown()} leaves the core
     * factory open. Open it with {@code StoreOptions.withJavaSerialization} to store other
     * {@code Serializable} types.
     *
     * @param factory the core factory the sessions live in
     * @throws NullPointerException if {@code factory} is null
     */
    public SessionStoreFactory(StoreFactory factory) {
        this(factory, nodeId -> new MemoryPubSubStore());
    }

    /**
     * A factory over an open core factory with the pub/sub of several nodes;
     * {@link #shutdown()} leaves the core factory open.
     *
     * @param factory the core factory the sessions live in
     * @param pubSub makes the pub/sub store from this factory's node id; called once, here
     * @throws NullPointerException if {@code factory} or {@code pubSub} is null, or
     *     {@code pubSub} returns null
     */
    public SessionStoreFactory(StoreFactory factory, LongFunction<PubSubStore> pubSub) {
        this(Objects.requireNonNull(pubSub, "pubSub"), Objects.requireNonNull(factory, "factory"), false);
    }

    private SessionStoreFactory(LongFunction<PubSubStore> pubSub, StoreFactory factory, boolean ownsFactory) {
        this.factory = factory;
        this.ownsFactory = ownsFactory;
        try {
            this.pubSub = Objects.requireNonNull(pubSub.apply(getNodeId()), "the pubSub function returned null");
        } catch (RuntimeException e) {
            if (ownsFactory) {
                factory.close();
            }
            throw e;
        }
    }

    /**
     * Opens the store of a session that is handshaking, attaching to its data if it has some.
     * netty-socketio calls it on an event loop, once per client.
     *
     * @param sessionId the client's session id
     * @return the session's store
     * @throws FactoryClosedException if this factory was shut down
     * @throws io.sessionstore.StoreBackendException if the backend cannot be reached
     */
    @Override
    public Store createStore(UUID sessionId) {
        if (shutDown.get()) {
            throw new FactoryClosedException("the SessionStoreFactory was shut down");
        }
        SessionStore store = new SessionStore(factory.createStore(sessionId), open::remove);
        open.add(store);
        if (shutDown.get()) {
            // shutdown() ran between the check and the add: it may have missed this store.
            open.remove(store);
            store.release();
            throw new FactoryClosedException("the SessionStoreFactory was shut down");
        }
        return store;
    }

    /**
     * The session ended (netty-socketio calls this before the application's
     * {@code DisconnectListener}s): its store is destroyed once they have run.
     *
     * @param client the client that disconnected
     */
    @Override
    public void onDisconnect(ClientHead client) {
        Store store = client.getStore();
        if (store instanceof SessionStore) {
            ((SessionStore) store).endAfterListeners();
        }
    }

    /**
     * Subscribes netty-socketio's pub/sub listeners, and logs a warning once when clients may
     * choose their own session ids ({@code Configuration.isRandomSession()} false).
     *
     * @param namespacesHub the server's namespaces
     * @param authorizeHandler the server's handshake handler
     * @param jsonSupport the server's JSON codec
     */
    @Override
    public void init(NamespacesHub namespacesHub, AuthorizeHandler authorizeHandler, JsonSupport jsonSupport) {
        super.init(namespacesHub, authorizeHandler, jsonSupport);
        warning.check(authorizeHandler, this);
    }

    /**
     * The pub/sub store the constructor made.
     *
     * @return the pub/sub store
     */
    @Override
    public PubSubStore pubSubStore() {
        return pubSub;
    }

    /**
     * A map of this node, the same one for the same name until {@link #shutdown()}.
     * netty-socketio 2.0 no longer calls this; the map is local because its keys and values may
     * be any objects, while a session holds string keys and portable values.
     *
     * @param <K> the key type
     * @param <V> the value type
     * @param name the map's name
     * @return a concurrent map (no null keys or values)
     */
    @Override
    @SuppressWarnings("unchecked")
    public <K, V> Map<K, V> createMap(String name) {
        return (Map<K, V>) maps.computeIfAbsent(name, n -> new ConcurrentHashMap<>());
    }

    /**
     * Releases every session handle (the sessions' data stays until its lease ends: clients
     * still connected to a stopping server never disconnect through it), shuts the pub/sub
     * store down, forgets the maps, and closes the core factory if this factory opened it from
     * a url. Later calls do nothing.
     */
    @Override
    public void shutdown() {
        if (!shutDown.compareAndSet(false, true)) {
            return;
        }
        for (SessionStore store : open) {
            open.remove(store);
            store.release();
        }
        maps.clear();
        pubSub.shutdown();
        if (ownsFactory) {
            factory.close();
        }
    }

    /**
     * The backend (password hidden) and the pub/sub store.
     *
     * @return e.g. {@code SessionStoreFactory[StoreFactory[memory://], MemoryPubSubStore]}
     */
    @Override
    public String toString() {
        return "SessionStoreFactory[" + factory + ", " + pubSub.getClass().getSimpleName() + "]";
    }
}
