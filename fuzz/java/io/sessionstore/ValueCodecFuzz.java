package io.sessionstore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Fuzz target of Java's value decoder, {@code ValueCodec} (docs/API.md §3, §7): for any bytes,
 * {@code decode} returns a value or throws {@link StoreBackendException}, the exception a
 * {@code get} of a bad stored document throws; never another exception, an error or a hang.
 * A document the core accepts (checked through the JNI library's own set, the validator every
 * host's writes go through) always decodes, its scalar fast path ({@code readScalar}, what
 * {@code Store.get} takes first) reads the same value, and the value stored again through a
 * memory store reads back equal.
 *
 * <p>Run under Jazzer by {@code make fuzz-java} ({@link #fuzzerTestOneInput}), over the committed
 * corpus without Jazzer by {@code make fuzz-replay-java} ({@link #main}). It lives in the
 * package of {@code ValueCodec}, which is package-private, and runs against the built jar.
 * Java deserialization stays off: fuzzed bytes are never deserialized.
 */
public final class ValueCodecFuzz {
    private static final ValueCodec CODEC = new ValueCodec(null);
    /** A raw store of the JNI library: its set is the core's validator. */
    private static final long RAW_STORE = Native.storeOpen(Native.factoryOpen("memory://"), "fuzz");
    private static final Store STORE = StoreFactory.open("memory://").createStore("round-trip");
    private static final Object FAILED = new Object();

    private ValueCodecFuzz() {}

    /** Whether the core accepts {@code doc} as a stored value. */
    private static boolean coreAccepts(byte[] doc) {
        byte[] buffer = new byte[1 + doc.length];
        buffer[0] = 'k';
        System.arraycopy(doc, 0, buffer, 1, doc.length);
        try {
            Native.storeSet(RAW_STORE, buffer, 1, buffer.length);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The whole target: throws {@link AssertionError} (or what escapes the decoder) on a finding. */
    public static void fuzzerTestOneInput(byte[] data) {
        Object value;
        boolean decoded;
        try {
            value = CODEC.decode(data);
            decoded = true;
        } catch (StoreBackendException e) {
            value = FAILED;
            decoded = false;
        }
        Object scalar;
        try {
            scalar = ValueCodec.readScalar(data, 0, data.length);
        } catch (StoreBackendException e) {
            scalar = FAILED;
        }
        if (!coreAccepts(data)) {
            return;
        }
        if (!decoded) {
            throw new AssertionError("Java cannot read a document the core accepts: " + hex(data));
        }
        if (scalar != ValueCodec.NOT_SCALAR && !same(scalar, value)) {
            throw new AssertionError("readScalar reads " + show(scalar) + " where decode reads "
                    + show(value) + ": " + hex(data));
        }
        STORE.set("k", value);
        Object back = STORE.get("k");
        if (!same(back, value)) {
            throw new AssertionError(show(value) + " stored reads back as " + show(back) + ": " + hex(data));
        }
    }

    /** Deep equality, arrays by content ({@code equals} already treats NaN as equal to itself). */
    private static boolean same(Object a, Object b) {
        if (a instanceof byte[] && b instanceof byte[]) {
            return Arrays.equals((byte[]) a, (byte[]) b);
        }
        if (a instanceof List && b instanceof List) {
            List<?> x = (List<?>) a;
            List<?> y = (List<?>) b;
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!same(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map && b instanceof Map) {
            Map<?, ?> x = (Map<?, ?>) a;
            Map<?, ?> y = (Map<?, ?>) b;
            if (!x.keySet().equals(y.keySet())) {
                return false;
            }
            Iterator<?> keys = x.keySet().iterator();
            while (keys.hasNext()) {
                Object k = keys.next();
                if (!same(x.get(k), y.get(k))) {
                    return false;
                }
            }
            return true;
        }
        return a == null ? b == null : a.equals(b);
    }

    private static String show(Object v) {
        if (v == FAILED) {
            return "(a failure)";
        }
        if (v instanceof byte[]) {
            return "byte[]" + hex((byte[]) v);
        }
        return v == null ? "null" : v.getClass().getSimpleName() + " " + v;
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < b.length && i < 64; i++) {
            s.append(String.format("%02x", b[i] & 0xff));
        }
        return s.append(b.length > 64 ? "…]" : "]").toString();
    }

    /**
     * Replays every file of the corpus folder {@code args[0]} once; the last line counts them.
     *
     * @param args the corpus folder
     * @throws IOException if the folder cannot be read
     */
    public static void main(String[] args) throws IOException {
        List<Path> files;
        try (Stream<Path> listing = Files.list(Paths.get(args[0]))) {
            files = listing.filter(Files::isRegularFile).sorted().collect(Collectors.toList());
        }
        if (files.isEmpty()) {
            System.err.println(args[0] + " holds no input");
            System.exit(1);
        }
        int failed = 0;
        for (Path file : files) {
            try {
                fuzzerTestOneInput(Files.readAllBytes(file));
            } catch (RuntimeException | Error e) {
                failed++;
                System.err.println("value_codec: " + file + " fails:");
                e.printStackTrace();
            }
        }
        System.out.println("value_codec: " + (files.size() - failed) + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
