package io.sessionstore;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * Keeps a wrapper reachable while a native call uses its handle, so its {@link Cleaner} cannot
 * release the handle in the middle of the call:
 *
 * <pre>{@code
 * try (NativeHandleGuard guard = new NativeHandleGuard(this)) {
 *     Native.storeHas(guard.nativeHandle(), key);
 * }
 * }</pre>
 *
 * (Releasing concurrently is safe anyway — the native registry keeps what a running call uses —
 * but the guard keeps a forgotten wrapper from failing its own last call.)
 */
final class NativeHandleGuard implements AutoCloseable {
    /** The one cleaner thread of the library, for every forgotten factory and store. */
    static final Cleaner CLEANER = Cleaner.create();

    /** A wrapper of a native handle. */
    interface Owner {
        /**
         * The handle, without keeping the owner reachable.
         *
         * @return the handle, never 0
         * @throws IllegalStateException when the owner was closed
         */
        long unsafeNativeHandleWithoutGuard();
    }

    /**
     * A handle and how to release it, registered with {@link #CLEANER}; it must not reference
     * its owner. {@link #run()} releases at most once, whether called by close or the cleaner.
     */
    static final class Handle implements Runnable {
        private final AtomicLong handle;
        private final LongConsumer release;

        Handle(long handle, LongConsumer release) {
            this.handle = new AtomicLong(handle);
            this.release = release;
        }

        /** The handle, or 0 once released. */
        long get() {
            return handle.get();
        }

        @Override
        public void run() {
            long h = handle.getAndSet(0);
            if (h != 0) {
                release.accept(h);
            }
        }
    }

    private final Owner owner;

    NativeHandleGuard(Owner owner) {
        this.owner = owner;
    }

    long nativeHandle() {
        return owner.unsafeNativeHandleWithoutGuard();
    }

    @Override
    public void close() {
        Reference.reachabilityFence(owner);
    }
}
