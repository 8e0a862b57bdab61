package io.sessionstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The value format of docs/API.md §3: every Java type round-trips, and Python's bytes read right. */
class ValuesTest {
    private static final ValueCodec PLAIN = new ValueCodec(null);

    private static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    /** Stores a raw document, as another language would, and reads it back through Java. */
    private static Object storeRawAndGet(Store store, byte[] doc) {
        byte[] buf = new byte[3 + doc.length];
        buf[0] = 'r';
        buf[1] = 'a';
        buf[2] = 'w';
        System.arraycopy(doc, 0, buf, 3, doc.length);
        Native.storeSet(store.nativeHandle(), buf, 3, buf.length);
        return store.get("raw");
    }

    @Backends.EachBackend
    void everyTypeRoundTripsToItself(String url) {
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("z", 1);
        nested.put("a", null);
        nested.put("m", List.of("x", 2L, List.of()));
        List<Object> withNull = new ArrayList<>(Arrays.asList(1, null, "three"));
        Object[] values = {
            "text", "", "ünïcødé 🔑", 42, -7, Integer.MIN_VALUE, Integer.MAX_VALUE, 5L, Long.MIN_VALUE,
            Long.MAX_VALUE, (short) 300, (short) -1, (byte) 7, (byte) -128, 1.5f, Float.NaN, 2.25,
            Double.NEGATIVE_INFINITY, -0.0, true, false, List.of(), Map.of(), withNull, nested,
            new OpaqueValue((byte) 80, bytes(1, 2, 3)), new OpaqueValue((byte) -1, new byte[0]),
        };
        try (StoreFactory factory = StoreFactory.open(url); Store store = factory.createStore(Backends.sid())) {
            for (Object v : values) {
                store.set("v", v);
                Object back = store.get("v");
                assertEquals(v, back, () -> "value " + v);
                assertEquals(typeOf(v), typeOf(back), () -> "type of " + v);
            }
            store.set("bytes", bytes(0, 255, 128));
            assertArrayEquals(bytes(0, 255, 128), store.get("bytes"));
            store.set("char", 'x');
            assertEquals("x", store.get("char"));
            store.set("big", new BigInteger("18446744073709551615"));
            assertEquals(new BigInteger("18446744073709551615"), store.get("big"));
            store.set("bigSmall", BigInteger.valueOf(-5));
            assertEquals(-5, (Integer) store.get("bigSmall"));
            assertThrows(IllegalArgumentException.class, () -> store.set("tooBig", BigInteger.ONE.shiftLeft(64)));

            // Insertion order of maps is kept, and maps decode as LinkedHashMap.
            Map<String, Object> ordered = new LinkedHashMap<>();
            for (String k : new String[] {"b", "a", "d", "c"}) {
                ordered.put(k, k);
            }
            store.set("ordered", ordered);
            Map<String, Object> back = store.get("ordered");
            assertEquals(List.of("b", "a", "d", "c"), new ArrayList<>(back.keySet()));
            assertInstanceOf(LinkedHashMap.class, back);
            store.destroy();
        }
    }

    private static Class<?> typeOf(Object v) {
        if (v instanceof List) {
            return List.class;
        }
        if (v instanceof Map) {
            return Map.class;
        }
        return v.getClass();
    }

    @Test
    void javaWritesFixedWidthIntMarkers() {
        assertArrayEquals(bytes(0xd0, 0x05), PLAIN.encode((byte) 5));
        assertArrayEquals(bytes(0xd1, 0x00, 0x05), PLAIN.encode((short) 5));
        assertArrayEquals(bytes(0xd2, 0, 0, 0, 5), PLAIN.encode(5));
        assertArrayEquals(bytes(0xd2, 0xff, 0xff, 0xff, 0xfe), PLAIN.encode(-2));
        assertArrayEquals(bytes(0xd3, 0, 0, 0, 0, 0, 0, 0, 5), PLAIN.encode(5L));
        assertArrayEquals(bytes(0xca, 0x3f, 0xc0, 0, 0), PLAIN.encode(1.5f));
        assertArrayEquals(bytes(0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0), PLAIN.encode(1.5));
        assertArrayEquals(bytes(0xa1, 'x'), PLAIN.encode('x'));
        assertArrayEquals(bytes(0xc3), PLAIN.encode(true));
        assertArrayEquals(bytes(0xc4, 2, 1, 2), PLAIN.encode(bytes(1, 2)));
        assertArrayEquals(bytes(0x92, 0xc0, 0xa1, 'a'), PLAIN.encode(Arrays.asList(null, "a")));
        assertArrayEquals(bytes(0xd4, 80, 9), PLAIN.encode(new OpaqueValue((byte) 80, bytes(9))));
    }

    /**
     * Hand-written bytes as Python's msgpack writes them (smallest int forms, float64 for
     * float, str, bin, array, map, pickles as ext 80): each reads as §3 says, through a store.
     */
    @Backends.EachBackend
    void pythonGoldenBytes(String url) {
        Object[][] cases = {
            {bytes(0x05), 5},                                        // positive fixint -> Integer
            {bytes(0xff), -1},                                       // negative fixint -> Integer
            {bytes(0xcc, 200), 200},                                 // uint8 -> Integer
            {bytes(0xcd, 0x30, 0x39), 12345},                        // uint16 -> Integer
            {bytes(0xce, 0x7f, 0xff, 0xff, 0xff), Integer.MAX_VALUE}, // uint32 that fits -> Integer
            {bytes(0xce, 0xff, 0xff, 0xff, 0xff), 4294967295L},      // uint32 above int -> Long
            {bytes(0xcf, 0, 0, 0, 1, 0, 0, 0, 0), 1L << 32},         // uint64 -> Long
            {bytes(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), new BigInteger("18446744073709551615")},
            {bytes(0xd0, 0x9c), (byte) -100},                        // int8: Byte (see Store's doc)
            {bytes(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0), Long.MIN_VALUE},
            {bytes(0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18), Math.PI}, // float64
            {bytes(0xc2), false},
            {bytes(0xa5, 'h', 'e', 'l', 'l', 'o'), "hello"},
            {bytes(0xd9, 3, 0xe2, 0x82, 0xac), "€"},                 // str8
            {bytes(0x93, 0x01, 0xa1, 'a', 0xc0), Arrays.asList(1, "a", null)},
            {bytes(0x82, 0xa1, 'b', 0x01, 0xa1, 'a', 0xc3), orderedMap("b", 1, "a", true)},
            {bytes(0xc7, 3, 80, 1, 2, 3), new OpaqueValue((byte) 80, bytes(1, 2, 3))}, // pickle
            {bytes(0xd4, 80, 7), new OpaqueValue((byte) 80, bytes(7))},
        };
        try (StoreFactory factory = StoreFactory.open(url); Store store = factory.createStore(Backends.sid())) {
            for (Object[] c : cases) {
                byte[] doc = (byte[]) c[0];
                Object back = storeRawAndGet(store, doc);
                assertEquals(c[1], back, () -> "bytes " + Arrays.toString(doc));
                // The direct scalar reader and msgpack-core agree.
                assertEquals(c[1], PLAIN.decode(doc), () -> "msgpack-core on " + Arrays.toString(doc));
                assertEquals(typeOf(c[1]), typeOf(back), () -> "type of " + Arrays.toString(doc));
            }
            Object bin = storeRawAndGet(store, bytes(0xc4, 3, 1, 2, 3));
            assertArrayEquals(bytes(1, 2, 3), (byte[]) bin);
            Map<String, Object> m = orderedMap("k", 1);
            store.set("map", m);
            assertInstanceOf(LinkedHashMap.class, store.get("map"));
            store.destroy();
        }
    }

    private static Map<String, Object> orderedMap(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    @Backends.EachBackend
    void invalidDocumentsAreRefusedByTheCore(String url) {
        try (StoreFactory factory = StoreFactory.open(url); Store store = factory.createStore(Backends.sid())) {
            byte[][] bad = {
                bytes(), bytes(0xc0), bytes(0xc1), bytes(0x01, 0x01), bytes(0xa5, 'h'),
                bytes(0x81, 0x01, 0x02), bytes(0xa2, 0xff, 0xfe),
            };
            for (byte[] doc : bad) {
                assertThrows(IllegalArgumentException.class, () -> storeRawAndGet(store, doc), Arrays.toString(doc));
            }
            assertNull(store.get("raw"));
            store.destroy();
        }
    }

    @Backends.EachBackend
    void nestingDepthAndCycles(String url) {
        try (StoreFactory factory = StoreFactory.open(url); Store store = factory.createStore(Backends.sid())) {
            assertEquals(128, ValueCodec.MAX_DEPTH);
            Object deepest = "leaf";
            for (int i = 0; i < ValueCodec.MAX_DEPTH; i++) {
                deepest = List.of(deepest);
            }
            store.set("deep", deepest);
            assertEquals(deepest, store.get("deep"));
            store.setAll(Map.of("deepToo", deepest));
            assertEquals(deepest, store.getAll().get("deepToo"));
            Object tooDeep = List.of(deepest);
            assertThrows(IllegalArgumentException.class, () -> store.set("tooDeep", tooDeep));
            // A document from elsewhere that nests too deep is refused by the core as well.
            byte[] doc = new byte[ValueCodec.MAX_DEPTH + 2];
            Arrays.fill(doc, (byte) 0x91);
            doc[doc.length - 1] = 0x01;
            assertThrows(IllegalArgumentException.class, () -> storeRawAndGet(store, doc));

            List<Object> cycle = new ArrayList<>();
            cycle.add(cycle);
            assertThrows(IllegalArgumentException.class, () -> store.set("cycle", cycle));
            Map<String, Object> mapCycle = new LinkedHashMap<>();
            mapCycle.put("self", mapCycle);
            assertThrows(IllegalArgumentException.class, () -> store.set("cycle", mapCycle));
            store.destroy();
        }
    }

    @Test
    void unsupportedTypes() {
        for (Object v : new Object[] {new Object(), new int[] {1}, new Object[] {1}, java.util.Set.of(1), new StringBuilder("x"),
                java.time.Instant.EPOCH, Map.of(1, "int key")}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PLAIN.encode(v), v.toString());
            assertTrue(e.getMessage().contains(v.getClass().getName()) || e.getMessage().contains("map keys"), e.getMessage());
        }
    }

    /** The direct writer of the hot path writes what msgpack-core writes, every size form. */
    @Test
    void directWriterMatchesMsgpackCore() {
        Object[] values = {"", "a", "x".repeat(31), "x".repeat(32), "x".repeat(255), "x".repeat(256),
            "x".repeat(65535), "x".repeat(65536), "é", "é".repeat(20), "é".repeat(200), "😀".repeat(40000),
            new byte[0], new byte[255], new byte[256], new byte[65536], 0, -1, 1L << 40, (short) 7, (byte) -3,
            1.25f, -2.5, Double.NaN, true, false, List.of(1), Map.of("k", "v")};
        for (Object v : values) {
            ValueCodec.Buffer buf = new ValueCodec.Buffer();
            int end = PLAIN.writeValue(buf, 3, v);
            byte[] direct = Arrays.copyOfRange(buf.bytes, 3, end);
            assertArrayEquals(PLAIN.encode(v), direct, () -> "value of class " + v.getClass());
            Object scalar = ValueCodec.readScalar(direct, 0, direct.length);
            Object expected = PLAIN.decode(direct);
            if (scalar != ValueCodec.NOT_SCALAR) {
                if (expected instanceof byte[]) {
                    assertArrayEquals((byte[]) expected, (byte[]) scalar);
                } else {
                    assertEquals(expected, scalar);
                }
            } else {
                assertTrue(v instanceof List || v instanceof Map, v.getClass().toString());
            }
        }
        ValueCodec.Buffer buf = new ValueCodec.Buffer();
        assertThrows(IllegalArgumentException.class, () -> PLAIN.writeValue(buf, 0, "bad\uD800é"));
        assertThrows(IllegalArgumentException.class, () -> ValueCodec.writeKey(buf, "é\uDC00"));
        assertEquals(4, ValueCodec.writeKey(buf, "ab?c"));
    }

    @Test
    void opaqueValueIsAValue() {
        OpaqueValue a = new OpaqueValue((byte) 80, bytes(1, 2));
        byte[] data = a.data();
        data[0] = 9;
        assertEquals(new OpaqueValue((byte) 80, bytes(1, 2)), a, "data() is a copy");
        assertEquals(a.hashCode(), new OpaqueValue((byte) 80, bytes(1, 2)).hashCode());
        assertEquals("OpaqueValue[type=80, 2 bytes]", a.toString());
        assertThrows(NullPointerException.class, () -> new OpaqueValue((byte) 1, null));
    }
}
