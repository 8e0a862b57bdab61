package io.sessionstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

/** {@code StoreFactory.stats()}: after a known sequence of calls and errors, exactly those. */
class StatsTest {
    private static long n(Map<String, Object> map, String key) {
        return ((Number) map.get(key)).longValue();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> sub(Map<String, Object> map, String key) {
        return (Map<String, Object>) map.get(key);
    }

    @Backends.EachBackend
    void statsCountEveryCallAndError(String url) {
        StoreFactory factory = StoreFactory.open(url);
        try (Store store = factory.createStore(Backends.sid())) {
            store.set("a", 1);
            store.set("b", "two");
            assertEquals(1, (Integer) store.get("a"));
            assertEquals(null, (Object) store.get("missing"));
            assertTrue(store.has("b"));
            store.del("a");
            assertEquals(1, store.size());
            assertThrows(IllegalArgumentException.class, () -> store.set("k".repeat(1025), 1));
            store.destroy();
            assertThrows(StoreDestroyedException.class, () -> store.get("b"));
        }
        Map<String, Object> stats = factory.stats();
        Map<String, Object> calls = sub(stats, "calls");
        assertEquals(1, n(calls, "open"));
        assertEquals(3, n(calls, "get"));
        assertEquals(2, n(calls, "set"), "a key the Java side refuses never reaches the core");
        assertEquals(1, n(calls, "has"));
        assertEquals(1, n(calls, "del"));
        assertEquals(1, n(calls, "len"));
        assertEquals(1, n(calls, "destroy"));
        Map<String, Object> errors = sub(stats, "errors");
        assertEquals(1, n(errors, "Destroyed"));
        assertEquals(0, n(errors, "InvalidArg"));
        assertEquals(0, n(errors, "Timeout") + n(errors, "Backend"));
        long total = calls.values().stream().mapToLong(v -> ((Number) v).longValue()).sum();
        boolean remote = !url.startsWith("memory");
        assertEquals(remote ? total : 0, n(sub(stats, "latency_us"), "count"));
        assertEquals(0, n(stats, "open_stores"));
        assertEquals(0, n(sub(stats, "lease"), "overruns"));
        factory.close();
        assertThrows(FactoryClosedException.class, factory::stats);
    }
}
