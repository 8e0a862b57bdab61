package io.sessionstore;

import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One handle on one client session's key-value data, as socketio4j's
 * {@code com.socketio4j.socketio.store.Store} ({@code set}, {@code get}, {@code has},
 * {@code del}, {@code destroy}) plus {@code keys}, {@code size}, {@code getAll} and
 * {@code setAll}.
 *
 * <p>Values are the portable types of docs/API.md §3, which every language reads: {@code String},
 * {@code Integer}, {@code Long}, {@code Short}, {@code Byte}, {@code Double}, {@code Float},
 * {@code Boolean}, {@code Character} (read back as {@code String}), {@code byte[]},
 * {@code List} and {@code Map<String, ?>} (insertion order kept; {@code null} allowed inside
 * them), and {@link OpaqueValue} for other languages' own objects. Each integer type reads back
 * as itself; an int another language wrote reads as {@code Integer} when it fits, else
 * {@code Long} ({@code BigInteger} above {@code Long.MAX_VALUE}) — except that a negative int in
 * a one-, two-byte form reads as {@code Byte}/{@code Short}: read ints as {@link Number} when
 * other languages write them. Other {@code Serializable} objects need
 * {@link StoreOptions#withJavaSerialization(Class[])}.
 *
 * <p>Keys are any string of at most 1024 bytes of UTF-8 (the empty string included).
 *
 * <p>Thread-safe. {@link #close()} releases the handle (the data stays) and is idempotent;
 * {@link #destroy()} deletes the session's data. A store that becomes unreachable without
 * being closed is released by a {@link Cleaner}.
 */
public final class Store implements AutoCloseable {
    /** Keeps the factory reachable (so its cleaner cannot close it) while a store is. */
    private final StoreFactory factory;
    private final String sessionId;
    private final ValueCodec codec;
    private final NativeHandleGuard.Handle handle;
    private final Cleaner.Cleanable cleanable;

    Store(StoreFactory factory, String sessionId, long handle, ValueCodec codec) {
        this.factory = factory;
        this.sessionId = sessionId;
        this.codec = codec;
        // The cleaner's action must not reach this Store: capture the id, never a field.
        String closedMessage = "the store of session " + sessionId + " is closed";
        this.handle = new NativeHandleGuard.Handle(handle, Native::storeRelease,
                () -> new IllegalStateException(closedMessage));
        this.cleanable = NativeHandleGuard.CLEANER.register(this, this.handle);
    }

    /**
     * Stores a value under a key, replacing any previous one.
     *
     * @param key the key
     * @param value the value: one of the portable types, an {@link OpaqueValue}, or (with Java
     *     serialization on) an allow-listed {@code Serializable}
     * @throws NullPointerException if {@code key} or {@code value} is null
     * @throws IllegalArgumentException if the key is too long, the value's type is not
     *     supported, or its encoded form is over the url's {@code max_value_bytes}
     * @throws StoreDestroyedException if the session was destroyed
     * @throws FactoryClosedException if the factory was closed
     * @throws IllegalStateException if this store was closed
     * @throws StoreBackendException if the backend failed ({@link StoreTimeoutException} if it
     *     took too long)
     */
    public void set(String key, Object value) {
        ValueCodec.Buffer buf = ValueCodec.acquire();
        try {
            int keyLength = ValueCodec.writeKey(buf, key);
            if (value == null) {
                throw new NullPointerException("a value is never null: use del(\"" + key + "\")");
            }
            int length = codec.writeValue(buf, keyLength, value);
            try (NativeHandleGuard guard = new NativeHandleGuard(this, handle)) {
                long h = guard.nativeHandle();
                if (length <= ValueCodec.SMALL_BYTES) {
                    Native.storeSetSmall(h, ValueCodec.word(buf, 0), ValueCodec.word(buf, 8),
                            ValueCodec.word(buf, 16), keyLength, length);
                } else {
                    Native.storeSet(h, buf.bytes, keyLength, length);
                }
            }
        } finally {
            ValueCodec.release(buf);
        }
    }

    /**
     * The value of a key.
     *
     * @param <T> the type the caller expects (an unchecked cast, as in socketio4j)
     * @param key the key
     * @return the value, or {@code null} when the key has none
     * @throws NullPointerException if {@code key} is null
     * @throws IllegalArgumentException if the key is too long, or the value is a Java-serialized
     *     object the allow-list rejects
     * @throws StoreDestroyedException if the session was destroyed
     * @throws FactoryClosedException if the factory was closed
     * @throws IllegalStateException if this store was closed
     * @throws StoreBackendException if the backend failed
     */
    @SuppressWarnings("unchecked")
    public <T> T get(String key) {
        ValueCodec.Buffer buf = ValueCodec.acquire();
        byte[] doc;
        try {
            int keyLength = ValueCodec.writeKey(buf, key);
            int length;
            try (NativeHandleGuard guard = new NativeHandleGuard(this, handle)) {
                long h = guard.nativeHandle();
                boolean small = keyLength <= ValueCodec.SMALL_KEY_BYTES;
                long w0 = small ? ValueCodec.word(buf, 0) : 0;
                long w1 = small ? ValueCodec.word(buf, 8) : 0;
                while ((length = small
                        ? Native.storeGetSmall(h, buf.bytes, w0, w1, keyLength, buf.bytes.length)
                        : Native.storeGet(h, buf.bytes, keyLength, buf.bytes.length)) < -1) {
                    buf.ensure(-2 - length); // the value is larger than the buffer: grow, ask again
                }
            }
            if (length == -1) {
                return null;
            }
            Object scalar = ValueCodec.readScalar(buf.bytes, 0, length);
            if (scalar != ValueCodec.NOT_SCALAR) {
                return (T) scalar;
            }
            doc = Arrays.copyOf(buf.bytes, length);
        } finally {
            ValueCodec.release(buf);
        }
        // Decoded outside the buffer: reading a Java-serialized object may run code that uses a store.
        return (T) codec.decode(doc);
    }

    /**
     * Whether a key has a value.
     *
     * @param key the key
     * @return true when it has one
     * @throws NullPointerException if {@code key} is null
     * @throws IllegalArgumentException if the key is too long
     * @throws StoreDestroyedException if the session was destroyed
     * @throws FactoryClosedException if the factory was closed
     * @throws IllegalStateException if this store was closed
     * @throws StoreBackendException if the backend failed
     */
    public boolean has(String key) {
        ValueCodec.Buffer buf = ValueCodec.acquire();
        try (NativeHandleGuard guard = new NativeHandleGuard(this, handle)) {
            int keyLength = ValueCodec.writeKey(buf, key);
            long h = guard.nativeHandle();
            return keyLength <= ValueCodec.SMALL_KEY_BYTES
                    ? Native.storeHasSmall(h, ValueCodec.word(buf, 0), ValueCodec.word(buf, 8), keyLength)
                    : Native.storeHas(h, buf.bytes, keyLength);
        } finally {
            ValueCodec.release(buf);
        }
    }

    /**
     * Deletes a key; deleting a missing key is not an error.
     *
     * @param key the key
     * @return whether the key had a value
     * @throws NullPointerException if {@code key} is null
     * @throws IllegalArgumentException if the key is too long
     * @throws StoreDestroyedException if the session was destroyed
     * @throws FactoryClosedException if the factory was closed
     * @throws IllegalStateException if this store was closed
     * @throws StoreBackendException if the backend failed
     */
    public boolean del(String key) {
        ValueCodec.Buffer buf = ValueCodec.acquire();
        try (NativeHandleGuard guard = new NativeHandleGuard(this, handle)) {
            int keyLength = ValueCodec.writeKey(buf, key);
            long h = guard.nativeHandle();
            return keyLength <= ValueCodec.SMALL_KEY_BYTES
                    ? Native.storeDelSmall(h, ValueCodec.word(buf, 0), ValueCodec.word(buf, 8), keyLength)
                    : Native.storeDel(h, buf.bytes, keyLength);
        } finally {
            ValueCodec.release(buf);
        }
    }

    /**
     * Deletes all of the session's data everywhere (on disconnect). Every store open on the
     * session, this one included, then throws {@link StoreDestroyedException} (except for
     * {@code destroy} itself, a no-op, and {@link #close()}). Use
     * {@link StoreFactory#createStore(String)} to start the session anew.
     *
     * @throws FactoryClosedException if the factory was closed
     * @throws IllegalStateException if this store was closed
     * @throws StoreBackendException if the backend failed
     */
    public void destroy() {
        try (NativeHandleGuard guard = new NativeHandleGuard(this, handle)) {
            Native.storeDestroy(guard.nativeHandle());
        }
    }

    /**
     * Whether this store destroyed its session or saw it destroyed.
     *
     * @return true once the session is known to be destroyed
     * @throws IllegalStateException if this store was closed
     */
    public boolean isDestroyed() {
        try (NativeHandleGuard guard = new NativeHandleGuard(this, handle)) {
            return Native.storeIsDestroyed(guard.nativeHandle());
        }
    }

    /**
     * Every key of the session.
     *
     * @return an unmodifiable snapshot of the keys
     * @throws StoreDestroyedException if the session was destroyed
     * @throws FactoryClosedException if the factory was closed
     * @throws IllegalStateException if this store was closed
     * @throws StoreBackendException if the backend failed
     */
    public Set<String> keys() {
        byte[] doc;
        try (NativeHandleGuard guard = new NativeHandleGuard(this, handle)) {
            doc = Native.storeKeys(guard.nativeHandle());
        }
        return ValueCodec.decodeKeys(doc);
    }

    /**
     * How many keys the session holds.
     *
     * @return the number of keys
     * @throws StoreDestroyedException if the session was destroyed
     * @throws FactoryClosedException if the factory was closed
     * @throws IllegalStateException if this store was closed
     * @throws StoreBackendException if the backend failed
     */
    public int size() {
        try (NativeHandleGuard guard = new NativeHandleGuard(this, handle)) {
            return Native.storeSize(guard.nativeHandle());
        }
    }

    /**
     * Every key with its value.
     *
     * @return a new mutable map (a snapshot)
     * @throws IllegalArgumentException if a value is a Java-serialized object the allow-list
     *     rejects
     * @throws StoreDestroyedException if the session was destroyed
     * @throws FactoryClosedException if the factory was closed
     * @throws IllegalStateException if this store was closed
     * @throws StoreBackendException if the backend failed
     */
    public Map<String, Object> getAll() {
        byte[] doc;
        try (NativeHandleGuard guard = new NativeHandleGuard(this, handle)) {
            doc = Native.storeGetAll(guard.nativeHandle());
        }
        return codec.decodeMap(doc);
    }

    /**
     * Stores every entry, all or nothing: when a key or value is invalid, nothing is stored.
     *
     * @param entries the keys and values
     * @throws NullPointerException if {@code entries}, a key or a value is null
     * @throws IllegalArgumentException as {@link #set(String, Object)}, for any entry
     * @throws StoreDestroyedException if the session was destroyed
     * @throws FactoryClosedException if the factory was closed
     * @throws IllegalStateException if this store was closed
     * @throws StoreBackendException if the backend failed
     */
    public void setAll(Map<String, ?> entries) {
        Objects.requireNonNull(entries, "entries");
        byte[] doc = codec.encodeEntries(entries);
        try (NativeHandleGuard guard = new NativeHandleGuard(this, handle)) {
            Native.storeSetAll(guard.nativeHandle(), doc);
        }
    }

    /**
     * The session this store is open on.
     *
     * @return the session id
     */
    public String getSessionId() {
        return sessionId;
    }

    /**
     * The factory that opened this store.
     *
     * @return the factory
     */
    public StoreFactory getFactory() {
        return factory;
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
     * Releases the handle; the session's data stays (use {@link #destroy()} to delete it).
     * Closing twice is a no-op.
     */
    @Override
    public void close() {
        cleanable.clean();
    }

    /**
     * The session id and state, never a value.
     *
     * @return e.g. {@code Store[sessionId=6f1c…]}
     */
    @Override
    public String toString() {
        return "Store[sessionId=" + sessionId + (isClosed() ? ", closed]" : "]");
    }

    /** The native handle (for the boundary tests); throws once closed. */
    long nativeHandle() {
        return handle.require();
    }
}
