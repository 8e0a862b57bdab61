package io.sessionstore;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.UUID;

import org.junit.jupiter.api.Test;

/**
 * The intent of socketio4j's StoreFactoryTest and MemoryStoreFactoryTest: creating stores,
 * isolation, destroy on disconnect, shutdown; plus urls, options and session ids.
 */
class StoreFactoryTest {

    @Backends.EachBackend
    void createStore(String url) {
        try (StoreFactory factory = StoreFactory.open(url)) {
            UUID sessionId = UUID.randomUUID();
            Store store = factory.createStore(sessionId);
            assertNotNull(store);
            assertEquals(sessionId.toString(), store.getSessionId());
            assertEquals(factory, store.getFactory());
            store.set("memoryKey", "memoryValue");
            assertEquals("memoryValue", store.get("memoryKey"));
            store.destroy();
        }
    }

    @Backends.EachBackend
    void createMultipleStores(String url) {
        try (StoreFactory factory = StoreFactory.open(url)) {
            Store store1 = factory.createStore(UUID.randomUUID());
            Store store2 = factory.createStore(UUID.randomUUID());
            assertNotSame(store1, store2);
            store1.set("isolatedKey", "store1Value");
            assertFalse(store2.has("isolatedKey"));
            assertNull(store2.get("isolatedKey"));
            assertEquals("store1Value", store1.get("isolatedKey"));
            store1.destroy();
            store2.destroy();
        }
    }

    /** socketio4j's onDisconnect: the session's data goes, and the old handle knows it. */
    @Backends.EachBackend
    void destroyOnDisconnect(String url) {
        try (StoreFactory factory = StoreFactory.open(url)) {
            UUID sessionId = UUID.randomUUID();
            Store store = factory.createStore(sessionId);
            Store otherHandle = factory.createStore(sessionId);
            store.set("key1", "value1");
            store.set("key2", "value2");
            store.set("key3", 123);
            assertEquals("value1", otherHandle.get("key1"));
            assertEquals(Integer.valueOf(123), store.get("key3"));

            factory.destroySession(sessionId);

            for (Store s : new Store[] {store, otherHandle}) {
                assertThrows(StoreDestroyedException.class, () -> s.has("key1"));
                assertThrows(StoreDestroyedException.class, () -> s.get("key1"));
                assertThrows(StoreDestroyedException.class, () -> s.set("key1", "late write"));
                assertTrue(s.isDestroyed());
                assertDoesNotThrow(s::destroy, "destroying again is a no-op");
            }
            // A new store on the same id starts an empty session; no late write resurrected it.
            try (Store fresh = factory.createStore(sessionId)) {
                assertFalse(fresh.has("key1"));
                assertNull(fresh.get("key2"));
                assertEquals(0, fresh.size());
                assertFalse(fresh.isDestroyed());
                fresh.destroy();
            }
            store.close();
            otherHandle.close();
        }
    }

    @Backends.EachBackend
    void destroyThroughTheStore(String url) {
        try (StoreFactory factory = StoreFactory.open(url)) {
            String sid = Backends.sid();
            Store store = factory.createStore(sid);
            Store other = factory.createStore(sid);
            store.set("k", 1);
            store.destroy();
            assertThrows(StoreDestroyedException.class, () -> other.get("k"));
            assertThrows(StoreDestroyedException.class, () -> store.keys());
            assertThrows(IllegalStateException.class, () -> store.size());
            other.close();
            store.close();
        }
    }

    @Backends.EachBackend
    void shutdown(String url) {
        StoreFactory factory = StoreFactory.open(url);
        Store store = factory.createStore(UUID.randomUUID());
        store.set("k", "v");
        assertFalse(factory.isClosed());
        factory.close();
        assertTrue(factory.isClosed());
        assertDoesNotThrow(factory::close, "close twice is a no-op");
        assertThrows(FactoryClosedException.class, () -> factory.createStore(UUID.randomUUID()));
        assertThrows(FactoryClosedException.class, () -> factory.destroySession(UUID.randomUUID()));
        assertThrows(FactoryClosedException.class, () -> store.get("k"));
        assertThrows(FactoryClosedException.class, () -> store.set("k", "v"));
        assertThrows(FactoryClosedException.class, store::destroy);
        assertThrows(IllegalStateException.class, store::size, "FactoryClosedException is an IllegalStateException");
        assertDoesNotThrow(store::close);
        assertTrue(factory.toString().contains("closed"));
    }

    @Test
    void badUrlsAndOptions() {
        for (String url : new String[] {"memory", "memory://x", "memcached://h", "?foo=1", "memory://?ttl_ms=5",
                "memory://?timeout_ms=0", "memory://?prefix=a/b", "memory://?max_value_bytes=abc", "redis://h:0"}) {
            assertThrows(IllegalArgumentException.class, () -> StoreFactory.open(url), url);
        }
        assertThrows(NullPointerException.class, () -> StoreFactory.open(null));
        assertThrows(NullPointerException.class, () -> StoreFactory.open("memory://", null));
        try (StoreFactory f = StoreFactory.open("")) {
            assertEquals("StoreFactory[memory://]", f.toString());
        }
        try (StoreFactory f = StoreFactory.open("memory://?prefix=app&ttl_ms=60000")) {
            assertTrue(f.toString().contains("ttl_ms=60000"), f.toString());
        }
    }

    @Test
    void aPasswordNeverShows() {
        // A closed port on loopback, and a short timeout: whatever this build does with Redis
        // (refuse the url, or fail to connect), the message hides the password.
        String url = "redis://user:hunter2@127.0.0.1:1/0?timeout_ms=100";
        RuntimeException e = assertThrows(RuntimeException.class, () -> {
            try (StoreFactory f = StoreFactory.open(url)) {
                assertFalse(f.toString().contains("hunter2"), f.toString());
                f.createStore("sid").set("k", 1);
            }
        });
        assertFalse(String.valueOf(e.getMessage()).contains("hunter2"), e.getMessage());
        assertTrue(e instanceof IllegalArgumentException || e instanceof StoreBackendException, e.toString());
    }

    @Backends.EachBackend
    void sessionIds(String url) {
        try (StoreFactory factory = StoreFactory.open(url)) {
            for (String ok : new String[] {"a", "Ab0._~:-", "x".repeat(128), "6f1c9a2e-0b1d-4c5e-9f00-123456789abc"}) {
                factory.createStore(ok).close();
            }
            for (String bad : new String[] {"", "a b", "a/b", "é", "x".repeat(129), "a\0", "\uD800"}) {
                assertThrows(IllegalArgumentException.class, () -> factory.createStore(bad), bad);
                assertThrows(IllegalArgumentException.class, () -> factory.destroySession(bad), bad);
            }
            assertThrows(NullPointerException.class, () -> factory.createStore((String) null));
            assertThrows(NullPointerException.class, () -> factory.createStore((UUID) null));
            assertThrows(NullPointerException.class, () -> factory.destroySession((String) null));
        }
    }

    @Test
    void versionAndOptions() {
        assertFalse(StoreFactory.version().isEmpty());
        assertFalse(StoreOptions.defaults().javaSerializationEnabled());
        assertTrue(StoreOptions.defaults().withJavaSerialization(String.class).javaSerializationEnabled());
        assertThrows(IllegalArgumentException.class, () -> StoreOptions.defaults().withJavaSerialization(new Class<?>[0]));
        assertThrows(NullPointerException.class,
                () -> StoreOptions.defaults().withJavaSerialization((java.io.ObjectInputFilter) null));
    }
}
