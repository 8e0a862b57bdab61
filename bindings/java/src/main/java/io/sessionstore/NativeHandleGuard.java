package io.sessionstore;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * Keeps a wrapper reachable while a native call uses its handle, so its {@link Cleaner} cannot
 * release the handle in the middle of the call:
 *
 * <pre>{@code
 * try (NativeHandleGuard guard = new NativeHandleGuard(this, handle)) {
 *     Native.storeSize(guard.nativeHandle());
 * }
 * }</pre>
 *
 * (Releasing concurrently is safe anyway — a release waits for the calls running on the handle —
 * but the guard keeps a forgotten wrapper from failing its own last call.)
 */
final class NativeHandleGuard implements AutoCloseable {
    /** The one cleaner thread of the library, for every forgotten factory and store. */
    static final Cleaner CLEANER = Cleaner.create();

    /**
     * A handle and how to release it, registered with {@link #CLEANER}; it must not reference
     * its owner. {@link #run()} releases at most once, whether called by close or the cleaner.
     */
    static final class Handle implements Runnable {
        private final AtomicLong handle;
        private final LongConsumer release;
        private final Supplier<? extends IllegalStateException> whenClosed;

        Handle(long handle, LongConsumer release, Supplier<? extends IllegalStateException> whenClosed) {
            this.handle = new AtomicLong(handle);
            this.release = release;
            this.whenClosed = whenClosed;
        }

        /** The handle, or 0 once released. */
        long get() {
            return handle.get();
        }

        /** The handle; the owner's "closed" exception once released. */
        long require() {
            long h = handle.get();
            if (h == 0) {
                throw whenClosed.get();
            }
            return h;
        }

        @Override
        public void run() {
            long h = handle.getAndSet(0);
            if (h != 0) {
                release.accept(h);
            }
        }
    }

    private final Object owner;
    private final Handle handle;

    NativeHandleGuard(Object owner, Handle handle) {
        this.owner = owner;
        this.handle = handle;
    }

    /** The handle, for the call this guard covers; throws if the owner was closed. */
    long nativeHandle() {
        return handle.require();
    }

    @Override
    public void close() {
        Reference.reachabilityFence(owner);
    }
}
