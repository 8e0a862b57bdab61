package io.sessionstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 5's cross-language test: a Python process (the sessionstore wheel) and this JVM share a
 * session over Redis, and each reads every value type of docs/API.md §3 the other wrote, as the Java
 * types of §3/§7 and the Python types of §6.
 *
 * <p>Runs only when the url list holds a Redis url and {@code SESSIONSTORE_TEST_PYTHON} names a
 * Python interpreter with the wheel installed ({@code make test-java} points it at the repo's
 * {@code .venv/bin/python} when {@code make test-python} made it); skipped otherwise. Once
 * configured, a Python that cannot run the script fails the test. The Python half is
 * {@code src/test/resources/cross_language.py}, which holds the mirror of the tables here.
 */
class CrossLanguageTest {
    private static final long PYTHON_TIMEOUT_SECONDS = 60;
    private static Path script;

    private static final String NO_REDIS = "no Redis url";

    /**
     * Every Redis url of the list (standalone first, as the harness lists them); without one, a
     * placeholder whose test is skipped (a parameterized test must have an invocation).
     */
    static Stream<String> redisUrls() {
        List<String> urls = Backends.urls().filter(u -> u.startsWith("redis") || u.startsWith("rediss"))
                .collect(Collectors.toList());
        return urls.isEmpty() ? Stream.of(NO_REDIS) : urls.stream();
    }

    static String python() {
        String python = System.getenv("SESSIONSTORE_TEST_PYTHON");
        return python == null || python.isBlank() ? null : python;
    }

    @BeforeAll
    static void copyScript() throws IOException {
        // From the class path to a file, so it runs from a jar as well as from a folder.
        script = Files.createTempFile("sessionstore-cross-language", ".py");
        try (InputStream in = CrossLanguageTest.class.getResourceAsStream("/cross_language.py")) {
            Objects.requireNonNull(in, "cross_language.py is not on the test class path");
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @AfterAll
    static void deleteScript() throws IOException {
        Files.deleteIfExists(script);
    }

    /** Runs the script; fails with its output unless it exits 0 and prints "ok". */
    private static void runPython(String mode, String url, String sid) throws Exception {
        // The output goes to a file, read once the process ended: the wait stays bounded
        // even if the process hangs with its output open.
        Path output = Files.createTempFile("cross_language", ".out");
        String text;
        try {
            Process p = new ProcessBuilder(python(), script.toString(), mode, url, sid)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            p.getOutputStream().close();
            if (!p.waitFor(PYTHON_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("python " + mode + " did not finish in " + PYTHON_TIMEOUT_SECONDS + " s");
            }
            text = Files.readString(output).strip();
            assertEquals(0, p.exitValue(), () -> "python " + mode + " failed:\n" + text);
        } finally {
            Files.deleteIfExists(output);
        }
        assertTrue(text.endsWith("ok"), () -> "python " + mode + " said:\n" + text);
    }

    private static void assumeConfigured(String url) {
        assumeTrue(python() != null, "SESSIONSTORE_TEST_PYTHON is not set");
        assumeTrue(!url.equals(NO_REDIS), "no Redis url configured");
        // Set but wrong is a configuration error, not a reason to skip.
        assertTrue(Files.isExecutable(Path.of(python())), "SESSIONSTORE_TEST_PYTHON=" + python() + " is not executable");
    }

    // ---- Python writes, Java reads -------------------------------------------------------

    /** What Java must read for each key cross_language.py's PYTHON_VALUES writes. */
    static Map<String, Object> pythonValuesAsJava() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("str", "hello");
        m.put("str_empty", "");
        m.put("unicode", "h\u00e9llo w\u00f6rld \u2713 \uD83D\uDE00 \u4e2d\u6587");
        // Foreign ints: Integer when they fit, else Long; uint64 past Long.MAX_VALUE: BigInteger.
        m.put("int_zero", 0);
        m.put("int_small", 42);
        m.put("int_neg_fix", -5);
        m.put("int_neg_small", -100);
        m.put("int_neg", -40000);
        m.put("int_uint8", 200);
        m.put("int_uint16", 60000);
        m.put("int_int32_max", Integer.MAX_VALUE);
        m.put("int_int32_min", Integer.MIN_VALUE);
        m.put("int_uint32", 4294967295L);
        m.put("int_large", 1L << 40);
        m.put("int_neg_large", -(1L << 40));
        m.put("int64_max", Long.MAX_VALUE);
        m.put("int64_min", Long.MIN_VALUE);
        m.put("uint64_big", BigInteger.ONE.shiftLeft(63));
        m.put("uint64_max", BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE));
        m.put("float", 3.25d);
        m.put("float_tenth", 0.1d);
        m.put("float_neg_inf", Double.NEGATIVE_INFINITY);
        m.put("bool_true", true);
        m.put("bool_false", false);
        m.put("bytes", new byte[] {0, 1, (byte) 0xfe, (byte) 0xff, ' ', 'b', 'i', 'n'});
        m.put("bytes_empty", new byte[0]);
        m.put("bytearray", new byte[] {'b', 'a'});
        m.put("list", Arrays.asList(1, "two", 3.5d, null, true, List.of(1L << 40), new byte[] {7}));
        m.put("tuple", List.of(1, 2));
        m.put("list_empty", List.of());
        Map<String, Object> deep = new LinkedHashMap<>();
        deep.put("x", null);
        deep.put("ids", List.of(1, -1));
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("deep", deep);
        nested.put("\u00fc", "\u00f6");
        Map<String, Object> dict = new LinkedHashMap<>();
        dict.put("name", "n");
        dict.put("none", null);
        dict.put("nested", nested);
        dict.put("z_last", 0);
        m.put("dict", dict);
        m.put("dict_empty", Map.of());
        m.put("\u043a\u043b\u044e\u0447 \u2713", "unicode key");
        return m;
    }

    /**
     * Asserts {@code actual} equals {@code expected} with exactly the same Java types all the
     * way down (an Integer is not a Long), byte arrays by content, maps in the same key order.
     */
    static void assertSame(String path, Object expected, Object actual) {
        if (expected == null) {
            assertEquals(null, actual, path);
            return;
        }
        if (actual == null) {
            fail(path + ": expected " + describe(expected) + ", got null");
        }
        if (expected instanceof byte[]) {
            assertTrue(actual instanceof byte[], () -> path + ": expected byte[], got " + describe(actual));
            assertArrayEquals(path, (byte[]) expected, (byte[]) actual);
        } else if (expected instanceof List) {
            assertTrue(actual instanceof List, () -> path + ": expected a List, got " + describe(actual));
            List<?> e = (List<?>) expected;
            List<?> a = (List<?>) actual;
            assertEquals(e.size(), a.size(), () -> path + ": list size, got " + a);
            for (int i = 0; i < e.size(); i++) {
                assertSame(path + "[" + i + "]", e.get(i), a.get(i));
            }
        } else if (expected instanceof Map) {
            assertTrue(actual instanceof Map, () -> path + ": expected a Map, got " + describe(actual));
            Map<?, ?> e = (Map<?, ?>) expected;
            Map<?, ?> a = (Map<?, ?>) actual;
            assertEquals(new ArrayList<>(e.keySet()), new ArrayList<>(a.keySet()), path + ": keys in order");
            for (Object k : e.keySet()) {
                assertSame(path + "." + k, e.get(k), a.get(k));
            }
        } else {
            assertEquals(expected.getClass(), actual.getClass(), () -> path + ": type of " + actual);
            assertEquals(expected, actual, path);
        }
    }

    private static void assertArrayEquals(String path, byte[] expected, byte[] actual) {
        assertTrue(Arrays.equals(expected, actual),
                () -> path + ": expected " + Arrays.toString(expected) + ", got " + Arrays.toString(actual));
    }

    private static String describe(Object v) {
        return v == null ? "null" : v.getClass().getSimpleName() + " " + v;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("redisUrls")
    void readsWhatPythonWrote(String url) throws Exception {
        assumeConfigured(url);
        String sid = Backends.sid();
        try (StoreFactory factory = StoreFactory.open(url)) {
            try {
                runPython("write", url, sid);
                Map<String, Object> expected = pythonValuesAsJava();
                try (Store store = factory.createStore(sid)) {
                    assertEquals(expected.keySet(), store.keys());
                    assertEquals(expected.size(), store.size());
                    for (Map.Entry<String, Object> e : expected.entrySet()) {
                        assertSame(e.getKey(), e.getValue(), store.get(e.getKey()));
                    }
                    // The same through getAll (one read of the whole session).
                    Map<String, Object> all = store.getAll();
                    for (Map.Entry<String, Object> e : expected.entrySet()) {
                        assertSame("getAll." + e.getKey(), e.getValue(), all.get(e.getKey()));
                    }
                    // What §3/§7 promise in so many words, spelled out.
                    Integer small = store.get("int_neg_fix");
                    Long min = store.get("int64_min");
                    BigInteger max = store.get("uint64_max");
                    Double tenth = store.get("float_tenth");
                    byte[] bin = store.get("bytes");
                    List<Object> list = store.get("list");
                    Map<String, Object> dict = store.get("dict");
                    assertEquals(-5, small.intValue());
                    assertEquals(Long.MIN_VALUE, min.longValue());
                    assertEquals("18446744073709551615", max.toString());
                    assertEquals(0.1, tenth.doubleValue());
                    assertEquals(8, bin.length);
                    assertEquals(null, list.get(3));
                    assertTrue(dict.containsKey("none"));
                    assertEquals(null, dict.get("none"));
                }
            } finally {
                factory.destroySession(sid);
            }
        }
    }

    // ---- Java writes, Python reads -------------------------------------------------------

    /** Every Java type of §7, under the keys of cross_language.py's JAVA_VALUES. */
    static Map<String, Object> javaValues() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("string", "h\u00e9llo \u2713 \uD83D\uDE00");
        m.put("string_empty", "");
        m.put("character", 'x');
        m.put("character_unicode", '\u00e9');
        m.put("integer", 42);
        m.put("integer_neg", -7);
        m.put("integer_min", Integer.MIN_VALUE);
        m.put("integer_max", Integer.MAX_VALUE);
        m.put("long", 1L << 40);
        m.put("long_small", 5L);
        m.put("long_min", Long.MIN_VALUE);
        m.put("long_max", Long.MAX_VALUE);
        m.put("short", (short) -300);
        m.put("short_max", Short.MAX_VALUE);
        m.put("byte", (byte) -7);
        m.put("byte_min", Byte.MIN_VALUE);
        m.put("biginteger_uint64_max", BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE));
        m.put("float", 1.5f);
        m.put("float_tenth", 0.1f);
        m.put("double", 0.1d);
        m.put("double_neg", -2.5e300);
        m.put("boolean_true", true);
        m.put("boolean_false", false);
        m.put("bytes", new byte[] {0, (byte) 0xff, 2, ' ', 'b', 'i', 'n'});
        m.put("bytes_empty", new byte[0]);
        m.put("list", Arrays.asList(1, "a", null, 2.5d, List.of(), true, 1L << 40, new byte[] {1}));
        m.put("list_empty", new ArrayList<>());
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("b", Arrays.asList(null, "c"));
        nested.put("d", new LinkedHashMap<>());
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("a", 1);
        map.put("null", null);
        map.put("nested", nested);
        map.put("z", false);
        m.put("map", map);
        m.put("map_empty", Map.of());
        m.put("\u043a\u043b\u044e\u0447", "unicode key");
        return m;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("redisUrls")
    void pythonReadsWhatJavaWrote(String url) throws Exception {
        assumeConfigured(url);
        String sid = Backends.sid();
        try (StoreFactory factory = StoreFactory.open(url)) {
            try {
                Map<String, Object> values = javaValues();
                try (Store store = factory.createStore(sid)) {
                    // Half one at a time, half in one atomic batch.
                    Map<String, Object> batch = new LinkedHashMap<>();
                    int i = 0;
                    for (Map.Entry<String, Object> e : values.entrySet()) {
                        if (i++ % 2 == 0) {
                            store.set(e.getKey(), e.getValue());
                        } else {
                            batch.put(e.getKey(), e.getValue());
                        }
                    }
                    store.setAll(batch);
                    assertEquals(values.size(), store.size());
                }
                runPython("check", url, sid);
                // Python only read: the session is still whole.
                try (Store store = factory.createStore(sid)) {
                    assertFalse(store.isDestroyed());
                    assertEquals(values.size(), store.size());
                }
            } finally {
                factory.destroySession(sid);
            }
        }
    }
}
