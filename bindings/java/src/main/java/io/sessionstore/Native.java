package io.sessionstore;

/**
 * The native methods of the JNI library: the bridging layer, not API. Every method here runs
 * through one runner on the Rust side that catches panics and throws the exception of the
 * error's kind; a stale or forged handle throws instead of crashing. The public classes check
 * their arguments and state first, so these exceptions are the last line, not the first.
 */
final class Native {
    static {
        NativeLibrary.load();
    }

    private Native() {}

    static native long factoryOpen(String url);

    static native void factoryClose(long factory);

    static native byte[] factoryDescribe(long factory);

    static native void factoryDestroySession(long factory, String sessionId);

    /** The factory's counters, as one MessagePack map. */
    static native byte[] factoryStats(long factory);

    static native long storeOpen(long factory, String sessionId);

    /** The key is {@code buffer[0, keyLength)}, the document {@code buffer[keyLength, length)}. */
    static native void storeSet(long store, byte[] buffer, int keyLength, int length);

    /**
     * Writes the document of the key {@code buffer[0, keyLength)} to the front of the buffer
     * ({@code capacity} bytes, its length): the document's length; -1 when missing;
     * {@code -(2 + n)} when it needs {@code n} bytes, more than the capacity (nothing written).
     * Lengths past the array's end raise ArrayIndexOutOfBoundsException (the JVM checks them).
     */
    static native int storeGet(long store, byte[] buffer, int keyLength, int capacity);

    /**
     * {@link #storeSet} for a key and document of at most 24 bytes together, passed as three
     * little-endian words: no JNI call on the way in.
     */
    static native void storeSetSmall(long store, long w0, long w1, long w2, int keyLength, int length);

    /** {@link #storeGet} for a key of at most 16 bytes, passed as two little-endian words. */
    static native int storeGetSmall(long store, byte[] buffer, long w0, long w1, int keyLength, int capacity);

    static native boolean storeHasSmall(long store, long w0, long w1, int keyLength);

    static native boolean storeDelSmall(long store, long w0, long w1, int keyLength);

    static native boolean storeHas(long store, byte[] buffer, int keyLength);

    static native boolean storeDel(long store, byte[] buffer, int keyLength);

    static native int storeSize(long store);

    static native byte[] storeKeys(long store);

    static native byte[] storeGetAll(long store);

    static native void storeSetAll(long store, byte[] mapDocument);

    static native void storeDestroy(long store);

    static native boolean storeIsDestroyed(long store);

    static native void storeRelease(long store);

    static native byte[] version();

    static native int maxDepth();

    /** Panics on the Rust side: the suite checks that it becomes an exception. */
    static native void selfTestPanic();

    /** Fails with the core error kind of that (Rust) name: the suite checks every mapping. */
    static native void selfTestFail(String kind);
}
