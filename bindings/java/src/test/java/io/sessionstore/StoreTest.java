package io.sessionstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The intent of socketio4j's AbstractStoreTest and MemoryStoreTest, on every backend: basic
 * operations, null values, complex objects, overwrite, missing keys, concurrent access,
 * isolation; plus the operations socketio4j's Store lacks.
 */
class StoreTest {

    /** A complex value, as socketio4j's TestObject. */
    static final class Profile implements Serializable {
        private static final long serialVersionUID = 1L;
        final String name;
        final int value;
        final List<String> tags;

        Profile(String name, int value, List<String> tags) {
            this.name = name;
            this.value = value;
            this.tags = tags;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Profile && ((Profile) o).name.equals(name)
                    && ((Profile) o).value == value && ((Profile) o).tags.equals(tags);
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, value, tags);
        }
    }

    /** Serializable, but never on an allow-list. */
    static final class Intruder implements Serializable {
        private static final long serialVersionUID = 1L;
        final String payload = "x";
    }

    @Backends.EachBackend
    void basicOperations(String url) {
        try (StoreFactory factory = StoreFactory.open(url); Store store = factory.createStore(Backends.sid())) {
            store.set("key1", "value1");
            store.set("key2", 123);
            store.set("key3", true);

            assertEquals("value1", store.get("key1"));
            assertInstanceOf(Integer.class, store.get("key2"));
            assertEquals(123, (Integer) store.get("key2"));
            assertEquals(true, store.get("key3"));

            assertTrue(store.has("key1"));
            assertTrue(store.has("key2"));
            assertTrue(store.has("key3"));
            assertFalse(store.has("nonexistent"));

            assertTrue(store.del("key1"));
            assertFalse(store.has("key1"));
            assertNull(store.get("key1"));
            store.destroy();
        }
    }

    @Backends.EachBackend
    void nullValueAndNullKey(String url) {
        try (StoreFactory factory = StoreFactory.open(url); Store store = factory.createStore(Backends.sid())) {
            assertThrows(NullPointerException.class, () -> store.set("nullKey", null));
            assertThrows(NullPointerException.class, () -> store.set(null, "v"));
            assertThrows(NullPointerException.class, () -> store.get(null));
            assertThrows(NullPointerException.class, () -> store.has(null));
            assertThrows(NullPointerException.class, () -> store.del(null));
            assertThrows(NullPointerException.class, () -> store.setAll(null));
            Map<String, Object> withNull = new LinkedHashMap<>();
            withNull.put("a", 1);
            withNull.put("b", null);
            assertThrows(NullPointerException.class, () -> store.setAll(withNull));
            assertFalse(store.has("nullKey"));
            assertFalse(store.has("a"), "setAll is all or nothing");
            store.destroy();
        }
    }

    @Backends.EachBackend
    void complexObjectsWithJavaSerialization(String url) {
        // Profile holds an ArrayList: every class inside a value must be on the allow-list.
        StoreOptions options = StoreOptions.defaults().withJavaSerialization(Profile.class, ArrayList.class);
        try (StoreFactory factory = StoreFactory.open(url, options); Store store = factory.createStore(Backends.sid())) {
            Profile profile = new Profile("test", 42, new ArrayList<>(List.of("a", "b")));
            store.set("complexKey", profile);
            Profile back = store.get("complexKey");
            assertEquals(profile, back);
            // Portable types stay portable with serialization on.
            store.set("list", List.of(1, 2));
            assertEquals(List.of(1, 2), store.get("list"));
            // Not on the allow-list: refused at set, nothing stored.
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> store.set("intruder", new Intruder()));
            assertTrue(e.getMessage().contains("allow-list"), e.getMessage());
            assertFalse(store.has("intruder"));
            // A class inside an allowed one is checked too: an immutable List.of() is not listed.
            assertThrows(IllegalArgumentException.class,
                    () -> store.set("listOf", new Profile("x", 1, List.of("a"))));
            // Nested inside a portable value, the same.
            assertThrows(IllegalArgumentException.class, () -> store.set("nested", List.of(new Intruder())));
            store.destroy();
        }
    }

    @Backends.EachBackend
    void complexObjectsRejectedWithoutTheOptIn(String url) {
        String sid = Backends.sid();
        // The writer's allow-list must accept every class inside the value (Profile holds an
        // ArrayList), or its own set refuses it, as complexObjectsWithJavaSerialization checks.
        StoreOptions options = StoreOptions.defaults().withJavaSerialization(Profile.class, ArrayList.class);
        try (StoreFactory plain = StoreFactory.open(url);
                StoreFactory opted = StoreFactory.open(url, options)) {
            Store store = plain.createStore(sid);
            Profile profile = new Profile("test", 42, new ArrayList<>());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> store.set("complexKey", profile));
            assertTrue(e.getMessage().contains("withJavaSerialization"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> store.set("object", new Object()));
            assertThrows(IllegalArgumentException.class, () -> store.set("set", Set.of(1)));
            assertFalse(store.has("complexKey"));

            if (!url.startsWith("memory")) {
                // A Java-serialized value written by an opted-in node reads as opaque bytes
                // here: never deserialized without the opt-in.
                try (Store writer = opted.createStore(sid)) {
                    writer.set("shared", profile);
                }
                OpaqueValue opaque = store.get("shared");
                assertEquals(ValueCodec.EXT_JAVA, opaque.type());
            }
            store.destroy();
        }
    }

    @Backends.EachBackend
    void javaSerializedValueReadsAsOpaqueWithoutTheOptIn(String url) {
        // On memory://, sessions live in one factory: write through the codec directly.
        StoreOptions options = StoreOptions.defaults().withJavaSerialization(Profile.class, ArrayList.class);
        byte[] doc = new ValueCodec(options.serialFilter()).encode(new Profile("p", 1, new ArrayList<>()));
        assertTrue(doc[0] == (byte) 0xc7 || doc[0] == (byte) 0xc8, "ext8 or ext16");
        Object plain = new ValueCodec(null).decode(doc);
        assertInstanceOf(OpaqueValue.class, plain);
        assertEquals(ValueCodec.EXT_JAVA, ((OpaqueValue) plain).type());
        // An allow-list without the class refuses to read it.
        ValueCodec other = new ValueCodec(StoreOptions.defaults().withJavaSerialization(Intruder.class).serialFilter());
        assertThrows(IllegalArgumentException.class, () -> other.decode(doc));
        // And writing the opaque value back keeps the bytes.
        try (StoreFactory factory = StoreFactory.open(url); Store store = factory.createStore(Backends.sid())) {
            store.set("opaque", plain);
            assertEquals(plain, store.get("opaque"));
            store.destroy();
        }
    }

    @Backends.EachBackend
    void overwriteValues(String url) {
        try (StoreFactory factory = StoreFactory.open(url); Store store = factory.createStore(Backends.sid())) {
            store.set("overwriteKey", "original");
            assertEquals("original", store.get("overwriteKey"));
            store.set("overwriteKey", "updated");
            assertEquals("updated", store.get("overwriteKey"));
            store.set("overwriteKey", 7L);
            assertEquals(7L, (Long) store.get("overwriteKey"));
            assertEquals(1, store.size());
            store.destroy();
        }
    }

    @Backends.EachBackend
    void missingKeys(String url) {
        try (StoreFactory factory = StoreFactory.open(url); Store store = factory.createStore(Backends.sid())) {
            assertFalse(store.del("nonexistent"));
            assertFalse(store.has("nonexistent"));
            assertNull(store.get("nonexistent"));
            assertEquals(0, store.size());
            assertEquals(Set.of(), store.keys());
            assertEquals(Map.of(), store.getAll());
            store.destroy();
        }
    }

    @Backends.EachBackend
    void concurrentAccess(String url) throws InterruptedException {
        try (StoreFactory factory = StoreFactory.open(url); Store store = factory.createStore(Backends.sid())) {
            int threadCount = 10;
            int operationsPerThread = 100;
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            Thread[] threads = new Thread[threadCount];
            for (int i = 0; i < threadCount; i++) {
                int threadId = i;
                threads[i] = new Thread(() -> {
                    try {
                        for (int j = 0; j < operationsPerThread; j++) {
                            String key = "thread" + threadId + "_key" + j;
                            String value = "value" + threadId + "_" + j;
                            store.set(key, value);
                            assertEquals(value, store.get(key));
                        }
                    } catch (Throwable t) {
                        failures.add(t);
                    }
                });
            }
            for (Thread t : threads) {
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            assertTrue(failures.isEmpty(), () -> "failures: " + failures);
            for (int i = 0; i < threadCount; i++) {
                for (int j = 0; j < operationsPerThread; j++) {
                    assertEquals("value" + i + "_" + j, store.get("thread" + i + "_key" + j));
                }
            }
            assertEquals(threadCount * operationsPerThread, store.size());
            store.destroy();
        }
    }

    @Backends.EachBackend
    void isolationBetweenSessions(String url) {
        try (StoreFactory factory = StoreFactory.open(url)) {
            Store store1 = factory.createStore(Backends.sid());
            Store store2 = factory.createStore(Backends.sid());
            store1.set("isolatedKey", "store1Value");
            assertFalse(store2.has("isolatedKey"));
            assertNull(store2.get("isolatedKey"));
            assertTrue(store1.has("isolatedKey"));
            assertEquals("store1Value", store1.get("isolatedKey"));
            store1.destroy();
            store2.destroy();
        }
    }

    /** Many keys in one session, each read back. (Speed is `make bench-java`'s, not a test's.) */
    @Backends.EachBackend
    void manyKeysRoundTrip(String url) {
        try (StoreFactory factory = StoreFactory.open(url); Store store = factory.createStore(Backends.sid())) {
            for (int i = 0; i < 2_000; i++) {
                store.set("perfKey" + i, "perfValue" + i);
            }
            for (int i = 0; i < 2_000; i++) {
                assertEquals("perfValue" + i, store.get("perfKey" + i));
            }
            assertEquals(2_000, store.size());
            store.destroy();
        }
    }

    @Backends.EachBackend
    void keysSizeGetAllSetAll(String url) {
        try (StoreFactory factory = StoreFactory.open(url); Store store = factory.createStore(Backends.sid())) {
            Map<String, Object> entries = new LinkedHashMap<>();
            entries.put("a", 1);
            entries.put("b", "two");
            entries.put("c", List.of(3.0));
            store.setAll(entries);
            assertEquals(3, store.size());
            assertEquals(Set.of("a", "b", "c"), store.keys());
            assertEquals(entries, store.getAll());
            assertThrows(UnsupportedOperationException.class, () -> store.keys().add("d"));

            // All or nothing: one bad value stores none of the others.
            Map<String, Object> bad = new LinkedHashMap<>();
            bad.put("d", 4);
            bad.put("e", new Object());
            assertThrows(IllegalArgumentException.class, () -> store.setAll(bad));
            assertFalse(store.has("d"));
            store.setAll(Map.of());
            assertEquals(3, store.size());
            store.destroy();
        }
    }

    @Backends.EachBackend
    void keyRules(String url) {
        try (StoreFactory factory = StoreFactory.open(url); Store store = factory.createStore(Backends.sid())) {
            store.set("", "empty key");
            assertEquals("empty key", store.get(""));
            store.set("ключ 🔑", 1);
            assertEquals(1, (Integer) store.get("ключ 🔑"));
            assertTrue(store.keys().contains("ключ 🔑"));
            String longest = "k".repeat(1024);
            store.set(longest, 1);
            assertTrue(store.has(longest));
            assertThrows(IllegalArgumentException.class, () -> store.set("k".repeat(1025), 1));
            assertThrows(IllegalArgumentException.class, () -> store.get("é".repeat(513)));
            // An unpaired surrogate is not UTF-8: refused, never replaced by '?'.
            assertThrows(IllegalArgumentException.class, () -> store.set("bad\uD800", 1));
            assertThrows(IllegalArgumentException.class, () -> store.has("\uDC00"));
            assertThrows(IllegalArgumentException.class, () -> store.set("k", "bad\uD800"));
            store.destroy();
        }
    }

    @Backends.EachBackend
    void valueSizeLimit(String url) {
        String limited = Backends.withOption(url, "max_value_bytes=64");
        try (StoreFactory factory = StoreFactory.open(limited); Store store = factory.createStore(Backends.sid())) {
            store.set("fits", new byte[62]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> store.set("big", new byte[63]));
            assertTrue(e.getMessage().contains("max_value_bytes"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> store.setAll(Map.of("big", "x".repeat(100))));
            assertFalse(store.has("big"));
            store.destroy();
        }
    }

    @Backends.EachBackend
    void twoHandlesOnOneSessionShareIt(String url) {
        String sid = Backends.sid();
        try (StoreFactory factory = StoreFactory.open(url)) {
            Store first = factory.createStore(sid);
            first.set("userId", 42);
            first.close();
            try (Store again = factory.createStore(sid)) {
                assertEquals(42, (Integer) again.get("userId"));
                assertEquals(sid, again.getSessionId());
                again.destroy();
            }
        }
    }
}
