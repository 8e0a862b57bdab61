package io.sessionstore.netty;

import com.corundumstudio.socketio.store.Store;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import io.sessionstore.StoreBackendException;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client session's netty-socketio {@link Store} (what {@code client.set/get/has/del} reach):
 * the session's {@link io.sessionstore.Store}, until {@link #endAfterListeners()} destroys it.
 */
final class SessionStore implements Store {
    private static final Logger log = LoggerFactory.getLogger(SessionStore.class);

    private final io.sessionstore.Store store;
    private final Consumer<SessionStore> ended;
    private final AtomicBoolean ending = new AtomicBoolean();
    /** The session's data as the disconnect listeners see it once it was destroyed under them. */
    private volatile Map<String, Object> copy;

    /** {@code ended} hears of this store once it destroyed its session. */
    SessionStore(io.sessionstore.Store store, Consumer<SessionStore> ended) {
        this.store = store;
        this.ended = ended;
    }

    @Override
    public void set(String key, Object value) {
        Map<String, Object> c = copy;
        if (c == null) {
            store.set(key, value);
        } else {
            c.put(key, value);
        }
    }

    @Override
    public <T> T get(String key) {
        Map<String, Object> c = copy;
        if (c == null) {
            return store.get(key);
        }
        @SuppressWarnings("unchecked")
        T value = (T) c.get(key);
        return value;
    }

    @Override
    public boolean has(String key) {
        Map<String, Object> c = copy;
        return c == null ? store.has(key) : c.containsKey(key);
    }

    @Override
    public void del(String key) {
        Map<String, Object> c = copy;
        if (c == null) {
            store.del(key);
        } else {
            c.remove(key);
        }
    }

    /**
     * Destroys the session once netty-socketio's {@code DisconnectListener}s, which it calls
     * right after {@code StoreFactory.onDisconnect} on the same thread, have run; a second call
     * (two threads may report one disconnect) does nothing.
     *
     * <p>On a Netty event loop (a websocket closing, a polling request that says goodbye, the
     * event loops shutting down) the destroy is the loop's next task, so the listeners read and
     * write the live session, which every node still sees. netty-socketio's ping and upgrade
     * timeouts run on its timer thread instead, where nothing of ours runs after the listeners:
     * there the session is copied, destroyed, and the listeners read (and write) the copy.
     */
    void endAfterListeners() {
        if (!ending.compareAndSet(false, true)) {
            return;
        }
        // netty-socketio hands the factory no channel, so the loop is found from the thread, the
        // way Netty's own executors record it (io.netty.util.internal, which netty-socketio uses too).
        EventExecutor loop = ThreadExecutorMap.currentExecutor();
        if (loop != null) {
            try {
                loop.execute(this::end);
                return;
            } catch (RejectedExecutionException terminated) {
                // The loop no longer runs tasks: end here, as off a loop.
            }
        }
        try {
            copy = new ConcurrentHashMap<>(store.getAll());
        } catch (StoreBackendException e) {
            log.warn("session {} could not be copied for its disconnect listeners, which will find its store closed: {}",
                    store.getSessionId(), e.getMessage());
        } catch (IllegalStateException gone) {
            // Destroyed elsewhere or released by shutdown(): nothing to copy, end() has nothing to do.
        }
        end();
    }

    /** Destroys the session and releases the handle; never throws into netty-socketio. */
    private void end() {
        try {
            store.destroy();
        } catch (StoreBackendException e) {
            log.warn("session {} could not be destroyed; it stays until its lease (ttl_ms) ends: {}",
                    store.getSessionId(), e.getMessage());
        } catch (IllegalStateException closed) {
            // shutdown() released the handle first (the server is stopping): nothing to do.
        } finally {
            store.close();
            ended.accept(this);
        }
    }

    /** Releases the handle, the data stays (the factory shuts down). */
    void release() {
        store.close();
    }

    /**
     * The session, never its values.
     *
     * @return e.g. {@code SessionStore[6f1c…]}
     */
    @Override
    public String toString() {
        return "SessionStore[" + store.getSessionId() + "]";
    }
}
