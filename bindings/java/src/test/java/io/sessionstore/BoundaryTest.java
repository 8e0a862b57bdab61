package io.sessionstore;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/**
 * The JNI boundary: every error kind becomes its exception, a panic becomes an exception, and
 * no input — null, forged, released or concurrently closed handles — crashes the JVM.
 */
class BoundaryTest {

    @Test
    void everyKindThrowsItsException() {
        Object[][] kinds = {
            {"NullArg", NullPointerException.class},
            {"InvalidArg", IllegalArgumentException.class},
            {"TooLarge", IllegalArgumentException.class},
            {"Config", IllegalArgumentException.class},
            {"Type", IllegalArgumentException.class},
            {"InvalidHandle", IllegalStateException.class},
            {"Destroyed", StoreDestroyedException.class},
            {"Closed", FactoryClosedException.class},
            {"Backend", StoreBackendException.class},
            {"Timeout", StoreTimeoutException.class},
            {"Internal", StoreBackendException.class},
        };
        for (Object[] k : kinds) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> Native.selfTestFail((String) k[0]));
            assertEquals(k[1], e.getClass(), (String) k[0]);
            assertEquals("self-test " + k[0], e.getMessage());
        }
        assertTrue(IllegalStateException.class.isAssignableFrom(StoreDestroyedException.class));
        assertTrue(IllegalStateException.class.isAssignableFrom(FactoryClosedException.class));
        assertTrue(StoreBackendException.class.isAssignableFrom(StoreTimeoutException.class));
        assertThrows(IllegalArgumentException.class, () -> Native.selfTestFail("NoSuchKind"));
        assertThrows(NullPointerException.class, () -> Native.selfTestFail(null));
    }

    @Test
    void aPanicBecomesAnExceptionAndTheLibraryGoesOn() {
        for (int i = 0; i < 3; i++) {
            StoreBackendException e = assertThrows(StoreBackendException.class, Native::selfTestPanic);
            assertTrue(e.getMessage().contains("self-test panic"), e.getMessage());
        }
        try (StoreFactory f = StoreFactory.open("memory://"); Store s = f.createStore("after-panic")) {
            s.set("k", 1);
            assertEquals(1, (Integer) s.get("k"));
        }
    }

    @Test
    void nullArgumentsToTheNativeLayer() {
        try (StoreFactory f = StoreFactory.open("memory://"); Store s = f.createStore("nulls")) {
            long fh = f.nativeHandle();
            long sh = s.nativeHandle();
            assertThrows(NullPointerException.class, () -> Native.factoryOpen(null));
            assertThrows(NullPointerException.class, () -> Native.storeOpen(fh, null));
            assertThrows(NullPointerException.class, () -> Native.factoryDestroySession(fh, null));
            assertThrows(NullPointerException.class, () -> Native.storeSet(sh, null, 0, 1));
            assertThrows(NullPointerException.class, () -> Native.storeGet(sh, null, 1, 1));
            assertThrows(NullPointerException.class, () -> Native.storeHas(sh, null, 1));
            assertThrows(NullPointerException.class, () -> Native.storeDel(sh, null, 1));
            assertThrows(NullPointerException.class, () -> Native.storeSetAll(sh, null));
            // Key not UTF-8; document not MessagePack.
            assertThrows(IllegalArgumentException.class, () -> Native.storeSet(sh, new byte[] {(byte) 0xff, 1}, 1, 2));
            assertThrows(IllegalArgumentException.class, () -> Native.storeSet(sh, new byte[] {'k', (byte) 0xc1}, 1, 2));
            assertThrows(IllegalArgumentException.class, () -> Native.storeSetAll(sh, new byte[] {1}));
            // Bounds that are not lengths: refused before any byte is read.
            byte[] buf = {'k', (byte) 0xc3};
            int[][] bad = {{-1, 1}, {2, 1}, {0, -1}, {1, Integer.MIN_VALUE}};
            for (int[] b : bad) {
                assertThrows(IllegalArgumentException.class, () -> Native.storeSet(sh, buf, b[0], b[1]));
            }
            for (int keyLength : new int[] {-1, Integer.MIN_VALUE}) {
                assertThrows(IllegalArgumentException.class, () -> Native.storeGet(sh, buf, keyLength, 2));
                assertThrows(IllegalArgumentException.class, () -> Native.storeHas(sh, buf, keyLength));
                assertThrows(IllegalArgumentException.class, () -> Native.storeDel(sh, buf, keyLength));
            }
            assertThrows(IllegalArgumentException.class, () -> Native.storeGet(sh, buf, 1, 0));
            // Lengths past the array's end: the JVM's bounds check throws, nothing is stored.
            int[][] past = {{1, 3}, {3, 3}, {0, 3}, {1024, 2000}};
            for (int[] b : past) {
                assertThrows(ArrayIndexOutOfBoundsException.class, () -> Native.storeSet(sh, buf, b[0], b[1]));
            }
            for (int keyLength : new int[] {3, 1024}) {
                assertThrows(ArrayIndexOutOfBoundsException.class, () -> Native.storeGet(sh, buf, keyLength, keyLength));
                assertThrows(ArrayIndexOutOfBoundsException.class, () -> Native.storeHas(sh, buf, keyLength));
                assertThrows(ArrayIndexOutOfBoundsException.class, () -> Native.storeDel(sh, buf, keyLength));
            }
            // Huge lengths are refused before anything is allocated: keys by length, documents
            // by max_value_bytes.
            assertThrows(IllegalArgumentException.class, () -> Native.storeSet(sh, buf, Integer.MAX_VALUE, Integer.MAX_VALUE));
            assertThrows(IllegalArgumentException.class, () -> Native.storeSet(sh, buf, 1, Integer.MAX_VALUE));
            assertThrows(IllegalArgumentException.class, () -> Native.storeGet(sh, buf, Integer.MAX_VALUE, Integer.MAX_VALUE));
            assertThrows(IllegalArgumentException.class, () -> Native.storeHas(sh, buf, 1025));
            assertEquals(0, s.size(), "nothing was stored");
            Native.storeSet(sh, buf, 1, 2);
            assertEquals(true, s.get("k"));
            // A capacity larger than the array: the write back is what the JVM refuses.
            s.set("k", "0123456789");
            assertThrows(ArrayIndexOutOfBoundsException.class, () -> Native.storeGet(sh, new byte[] {'k'}, 1, 20));
            s.del("k");
            assertFalse(s.has("k"));
            // A buffer too short for the value: its size comes back, nothing is written.
            s.set("k", "0123456789");
            byte[] small = {'k', 0, 0, 0};
            assertEquals(-2 - 11, Native.storeGet(sh, small, 1, small.length));
            assertEquals('k', small[0]);
            byte[] enough = new byte[11];
            enough[0] = 'k';
            assertEquals(11, Native.storeGet(sh, enough, 1, enough.length));
            assertEquals("0123456789", ValueCodec.readScalar(enough, 0, 11));
            assertEquals(-1, Native.storeGet(sh, new byte[] {'x'}, 1, 1));
        }
    }

    /** The small calls (key and document in registers) check what they are given. */
    @Test
    void smallCallsCheckTheirArguments() {
        try (StoreFactory f = StoreFactory.open("memory://"); Store s = f.createStore("small")) {
            long sh = s.nativeHandle();
            long k = 'k';
            long kTrue = 'k' | (0xc3L << 8);
            assertThrows(IllegalArgumentException.class, () -> Native.storeSetSmall(sh, kTrue, 0, 0, 1, 25));
            assertThrows(IllegalArgumentException.class, () -> Native.storeSetSmall(sh, kTrue, 0, 0, 2, 1));
            assertThrows(IllegalArgumentException.class, () -> Native.storeSetSmall(sh, kTrue, 0, 0, -1, 2));
            assertThrows(IllegalArgumentException.class, () -> Native.storeSetSmall(sh, 0xff, 0, 0, 1, 1), "key not UTF-8");
            assertThrows(IllegalArgumentException.class, () -> Native.storeSetSmall(sh, k | (0xc1L << 8), 0, 0, 1, 2));
            assertThrows(IllegalArgumentException.class, () -> Native.storeHasSmall(sh, k, 0, 17));
            assertThrows(IllegalArgumentException.class, () -> Native.storeDelSmall(sh, k, 0, -1));
            assertThrows(IllegalArgumentException.class, () -> Native.storeGetSmall(sh, new byte[4], k, 0, 17, 4));
            assertThrows(IllegalArgumentException.class, () -> Native.storeGetSmall(sh, new byte[4], k, 0, 1, -1));
            assertEquals(0, s.size());
            Native.storeSetSmall(sh, kTrue, 0, 0, 1, 2);
            assertEquals(true, s.get("k"));
            assertTrue(Native.storeHasSmall(sh, k, 0, 1));
            byte[] out = new byte[4];
            assertEquals(1, Native.storeGetSmall(sh, out, k, 0, 1, out.length));
            assertEquals((byte) 0xc3, out[0]);
            assertThrows(NullPointerException.class, () -> Native.storeGetSmall(sh, null, k, 0, 1, 4));
            assertThrows(ArrayIndexOutOfBoundsException.class, () -> Native.storeGetSmall(sh, new byte[0], k, 0, 1, 4));
            assertTrue(Native.storeDelSmall(sh, k, 0, 1));
            assertFalse(Native.storeHasSmall(sh, k, 0, 1));
            for (long h : new long[] {0, -1, 0x5E00_0000_0000_0001L}) {
                assertThrows(IllegalStateException.class, () -> Native.storeSetSmall(h, kTrue, 0, 0, 1, 2));
                assertThrows(IllegalStateException.class, () -> Native.storeHasSmall(h, k, 0, 1));
            }
        }
    }

    /** Keys and values on both sides of the small-call sizes read back the same. */
    @Test
    void smallAndLargeCallsAgree() {
        try (StoreFactory f = StoreFactory.open("memory://"); Store s = f.createStore("sizes")) {
            for (int keyLength = 0; keyLength <= 20; keyLength++) {
                for (int valueLength = 0; valueLength <= 30; valueLength++) {
                    String key = "k".repeat(keyLength);
                    String value = "v".repeat(valueLength);
                    s.set(key, value);
                    assertEquals(value, s.get(key));
                    assertTrue(s.has(key));
                    byte[] bytes = new byte[valueLength];
                    s.set(key, bytes);
                    assertEquals(valueLength, ((byte[]) s.get(key)).length);
                    assertTrue(s.del(key));
                    assertFalse(s.has(key));
                }
            }
            s.set("é".repeat(8), "ü");
            assertEquals("ü", s.get("é".repeat(8)));
            assertEquals(1, s.size());
        }
    }

    @Test
    void forgedAndStaleHandles() {
        long[] forged = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, 0x5E00_0000_0000_0001L, 0x5F00_0000_0000_0001L};
        byte[] key = {'k', 1};
        for (long h : forged) {
            assertThrows(IllegalStateException.class, () -> Native.storeGet(h, key, 1, 2));
            assertThrows(IllegalStateException.class, () -> Native.storeSet(h, key, 1, 2));
            assertThrows(IllegalStateException.class, () -> Native.storeSize(h));
            assertThrows(IllegalStateException.class, () -> Native.storeRelease(h));
            // Never issued: invalid, not closed (a closed factory's own handle is "closed").
            assertEquals(IllegalStateException.class,
                    assertThrows(IllegalStateException.class, () -> Native.storeOpen(h, "sid")).getClass());
            assertEquals(IllegalStateException.class,
                    assertThrows(IllegalStateException.class, () -> Native.factoryClose(h)).getClass());
        }
        StoreFactory f = StoreFactory.open("memory://");
        Store s = f.createStore("stale");
        long fh = f.nativeHandle();
        long sh = s.nativeHandle();
        // A store handle is not a factory handle, and the other way round.
        assertEquals(IllegalStateException.class,
                assertThrows(IllegalStateException.class, () -> Native.storeOpen(sh, "sid")).getClass());
        assertThrows(IllegalStateException.class, () -> Native.storeGet(fh, key, 1, 2));
        // Used first, then released: this thread must see the release at once.
        s.set("k", 1);
        assertEquals(1, (Integer) s.get("k"));
        s.close();
        assertThrows(IllegalStateException.class, () -> Native.storeGet(sh, key, 1, 2), "released");
        f.close();
        assertThrows(FactoryClosedException.class, () -> Native.storeOpen(fh, "sid"), "closed");
        assertDoesNotThrow(() -> Native.factoryClose(fh), "closing twice");
    }

    @Test
    void handlesAfterCloseDestroyAndRelease() {
        StoreFactory f = StoreFactory.open("memory://");
        Store s = f.createStore("lifecycle");
        s.set("k", 1);
        s.close();
        assertTrue(s.isClosed());
        assertDoesNotThrow(s::close);
        for (Runnable op : List.<Runnable>of(() -> s.get("k"), () -> s.set("k", 2), () -> s.has("k"), () -> s.del("k"),
                s::destroy, s::keys, s::size, s::getAll, () -> s.setAll(Map.of("a", 1)), s::isDestroyed)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, op::run);
            assertEquals(IllegalStateException.class, e.getClass());
        }
        try (Store again = f.createStore("lifecycle")) {
            assertEquals(1, (Integer) again.get("k"), "release keeps the data");
        }
        f.close();
        assertDoesNotThrow(f::close);
        assertDoesNotThrow(s::close);
    }

    /** Closing a store or its factory while other threads use it: exceptions, never a crash. */
    @Test
    void concurrentCloseVersusUse() throws InterruptedException {
        for (int round = 0; round < 20; round++) {
            StoreFactory f = StoreFactory.open("memory://");
            Store s = f.createStore("race");
            int threads = 4;
            CountDownLatch started = new CountDownLatch(threads);
            ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
            AtomicLong ok = new AtomicLong();
            Thread[] workers = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                int id = t;
                workers[t] = new Thread(() -> {
                    started.countDown();
                    for (int i = 0; i < 2000; i++) {
                        try {
                            switch ((id + i) % 5) {
                                case 0: s.set("k" + (i % 10), i); break;
                                case 1: s.get("k" + (i % 10)); break;
                                case 2: s.getAll(); break;
                                case 3: f.createStore("other" + id).close(); break;
                                default: s.del("k" + (i % 10)); break;
                            }
                            ok.incrementAndGet();
                        } catch (IllegalStateException expected) {
                            // closed store, closed factory or destroyed session
                        } catch (Throwable other) {
                            unexpected.add(other);
                        }
                    }
                });
                workers[t].start();
            }
            started.await();
            if (round % 3 == 0) {
                s.close();
            } else if (round % 3 == 1) {
                f.close();
            } else {
                s.destroy();
            }
            for (Thread w : workers) {
                w.join();
            }
            assertTrue(unexpected.isEmpty(), () -> "unexpected: " + unexpected);
            s.close();
            f.close();
        }
    }

    @Test
    void aForgottenStoreIsReleasedByTheCleaner() throws InterruptedException {
        try (StoreFactory f = StoreFactory.open("memory://")) {
            long[] handle = new long[1];
            Runnable open = () -> {
                Store s = f.createStore("forgotten");
                s.set("k", 1);
                handle[0] = s.nativeHandle();
            };
            open.run();
            long deadline = System.nanoTime() + 10_000_000_000L;
            boolean released = false;
            while (!released && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(20);
                // A fresh buffer each time: a get that still finds the store writes the value
                // over the key at the front of the buffer.
                byte[] key = {'k', 0, 0, 0, 0, 0};
                try {
                    Native.storeGet(handle[0], key, 1, key.length);
                } catch (IllegalStateException e) {
                    released = true;
                }
            }
            assertTrue(released, "the cleaner released the forgotten handle");
            try (Store again = f.createStore("forgotten")) {
                assertEquals(1, (Integer) again.get("k"));
            }
        }
    }
}
