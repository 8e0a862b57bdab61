package io.sessionstore.netty;

import java.util.concurrent.Callable;

/** Polls a condition with a bound instead of sleeping a guessed time. */
final class Eventually {
    private static final long BOUND_MS = 20_000;

    private Eventually() {}

    /** Waits until {@code condition} holds, failing with {@code what} after the bound. */
    static void await(String what, Callable<Boolean> condition) throws Exception {
        await(what, BOUND_MS, condition);
    }

    static void await(String what, long boundMs, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + boundMs * 1_000_000;
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + boundMs + " ms: " + what);
            }
            Thread.sleep(20);
        }
    }
}
