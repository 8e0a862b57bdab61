package io.sessionstore;

import java.io.ByteArrayInputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InvalidClassException;
import java.io.NotSerializableException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.Serializable;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.msgpack.core.ExtensionTypeHeader;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessagePacker;
import org.msgpack.core.MessageUnpacker;

/**
 * The portable value format of docs/API.md §3 on the Java side, over msgpack-core.
 *
 * <p>Writing: {@code Byte}, {@code Short}, {@code Integer}, {@code Long} always use the
 * fixed-width int8/16/32/64 markers, so each reads back as its own type; {@code Float} is
 * float32 and {@code Double} float64; {@code Character} is written as a one-character str;
 * {@code BigInteger} from -2^63 to 2^64-1 is written in the smallest int form. Reading: int8/16/
 * 32/64 read as {@code Byte}/{@code Short}/{@code Integer}/{@code Long}; the forms other
 * languages use for their ints (fixint, uint8/16/32/64) read as {@code Integer} when the value
 * fits, else {@code Long}, and a uint64 above {@code Long.MAX_VALUE} as {@code BigInteger}
 * (never a silently wrapped negative {@code Long}).
 */
final class ValueCodec {
    /** Java-serialized objects: MessagePack extension 74 ({@code 'J'}). */
    static final byte EXT_JAVA = 74;
    static final int MAX_DEPTH = Native.maxDepth();
    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
    private static final BigInteger INT64_MIN = BigInteger.valueOf(Long.MIN_VALUE);

    /** One packer per thread, reused: most values are a few bytes. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static final class Scratch {
        final MessageBufferPacker packer = MessagePack.newDefaultBufferPacker();
        final byte[] number = new byte[9];
        boolean busy;
    }

    /**
     * The per-thread buffer of the hot operations: the key's UTF-8 at {@code [0, keyLength)},
     * then the document; {@code get} reads the document back into it. Taken with
     * {@link #acquire()} and given back with {@link #release(Buffer)}; a thread that reenters
     * (a {@code writeObject} that uses a store) gets a fresh one.
     */
    static final class Buffer {
        /** At least 24: the small calls read three words from the front, whatever the length. */
        private static final int INITIAL = 256;
        private static final int KEEP = 1 << 16;
        byte[] bytes = new byte[INITIAL];
        boolean busy;

        /** Grows to at least {@code needed} bytes, keeping the contents. */
        void ensure(int needed) {
            if (bytes.length < needed) {
                bytes = Arrays.copyOf(bytes, Math.max(needed, bytes.length * 2));
            }
        }
    }

    private static final ThreadLocal<Buffer> BUFFERS = ThreadLocal.withInitial(Buffer::new);

    /** Keys and documents this short travel to the native side in registers, not in the array. */
    static final int SMALL_BYTES = 24;
    static final int SMALL_KEY_BYTES = 16;
    private static final VarHandle WORDS =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** The little-endian word at {@code at} of the buffer (which is never shorter than 24). */
    static long word(Buffer buf, int at) {
        return (long) WORDS.get(buf.bytes, at);
    }

    static Buffer acquire() {
        Buffer b = BUFFERS.get();
        if (b.busy) {
            b = new Buffer();
        }
        b.busy = true;
        return b;
    }

    static void release(Buffer b) {
        b.busy = false;
        if (b.bytes.length > Buffer.KEEP) {
            b.bytes = new byte[Buffer.INITIAL]; // do not keep a large buffer per thread
        }
    }

    private final ObjectInputFilter serialFilter;

    ValueCodec(ObjectInputFilter serialFilter) {
        this.serialFilter = serialFilter;
    }

    // ---- keys ------------------------------------------------------------------------------

    /**
     * A key as UTF-8; a string with an unpaired surrogate is not valid UTF-8, so it is rejected
     * rather than silently replaced (two different keys must never become one).
     */
    static byte[] encodeKey(String key) {
        if (key == null) {
            throw new NullPointerException("key is null");
        }
        byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
        if (mayHaveReplaced(key, utf8)) {
            checkSurrogates(key, "key");
        }
        return utf8;
    }

    /**
     * Whether the encoder may have replaced an unpaired surrogate by {@code '?'}: only when the
     * string is not plain ASCII, or its UTF-8 holds a {@code '?'}. Plain ASCII keys skip the scan.
     */
    private static boolean mayHaveReplaced(String s, byte[] utf8) {
        if (utf8.length != s.length()) {
            return true;
        }
        for (byte b : utf8) {
            if (b == '?') {
                return true;
            }
        }
        return false;
    }

    private static void checkSurrogates(String s, String what) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(
                        "a " + what + " is valid UTF-8: unpaired surrogate at index " + i);
            }
        }
    }

    /** Writes the key's UTF-8 at the front of the buffer; returns its length. */
    static int writeKey(Buffer buf, String key) {
        if (key == null) {
            throw new NullPointerException("key is null");
        }
        int n = key.length();
        buf.ensure(n);
        byte[] b = buf.bytes;
        for (int i = 0; i < n; i++) {
            char c = key.charAt(i);
            if (c >= 0x80) {
                byte[] utf8 = encodeKey(key);
                buf.ensure(utf8.length);
                System.arraycopy(utf8, 0, buf.bytes, 0, utf8.length);
                return utf8.length;
            }
            b[i] = (byte) c;
        }
        return n;
    }

    // ---- encoding --------------------------------------------------------------------------

    /**
     * Writes the document of {@code value} (not null) into the buffer at {@code off}; returns
     * where it ends. Scalars are written directly, the rest through msgpack-core.
     */
    int writeValue(Buffer buf, int off, Object v) {
        if (v instanceof String) {
            return writeStringAt(buf, off, (String) v);
        } else if (v instanceof Integer) {
            return fixedAt(buf, off, 0xd2, (Integer) v, 4);
        } else if (v instanceof Long) {
            return fixedAt(buf, off, 0xd3, (Long) v, 8);
        } else if (v instanceof Boolean) {
            buf.ensure(off + 1);
            buf.bytes[off] = (Boolean) v ? (byte) 0xc3 : (byte) 0xc2;
            return off + 1;
        } else if (v instanceof Double) {
            return fixedAt(buf, off, 0xcb, Double.doubleToRawLongBits((Double) v), 8);
        } else if (v instanceof Float) {
            return fixedAt(buf, off, 0xca, Float.floatToRawIntBits((Float) v), 4);
        } else if (v instanceof Short) {
            return fixedAt(buf, off, 0xd1, (Short) v, 2);
        } else if (v instanceof Byte) {
            return fixedAt(buf, off, 0xd0, (Byte) v, 1);
        } else if (v instanceof byte[]) {
            byte[] b = (byte[]) v;
            int h = b.length < 0x100 ? 2 : b.length < 0x10000 ? 3 : 5;
            int end = header(buf, off, h, b.length, 0xc4, 0xc5, 0xc6);
            buf.ensure(end + b.length);
            System.arraycopy(b, 0, buf.bytes, end, b.length);
            return end + b.length;
        }
        byte[] doc = encode(v);
        buf.ensure(off + doc.length);
        System.arraycopy(doc, 0, buf.bytes, off, doc.length);
        return off + doc.length;
    }

    private static int writeStringAt(Buffer buf, int off, String s) {
        int n = s.length();
        int h = n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
        buf.ensure(off + h + n);
        byte[] b = buf.bytes;
        int at = off + h;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                // Not ASCII: the UTF-8 length differs from the char count.
                byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
                checkSurrogates(s, "string");
                int m = utf8.length;
                int end = m < 32 ? fixstr(buf, off, m) : header(buf, off, m < 0x100 ? 2 : m < 0x10000 ? 3 : 5, m, 0xd9, 0xda, 0xdb);
                buf.ensure(end + m);
                System.arraycopy(utf8, 0, buf.bytes, end, m);
                return end + m;
            }
            b[at + i] = (byte) c;
        }
        if (n < 32) {
            fixstr(buf, off, n);
        } else {
            header(buf, off, h, n, 0xd9, 0xda, 0xdb);
        }
        return at + n;
    }

    private static int fixstr(Buffer buf, int off, int n) {
        buf.ensure(off + 1);
        buf.bytes[off] = (byte) (0xa0 | n);
        return off + 1;
    }

    /** A str or bin header of {@code h} bytes (2, 3 or 5) for length {@code n}; returns its end. */
    private static int header(Buffer buf, int off, int h, int n, int m8, int m16, int m32) {
        buf.ensure(off + h);
        byte[] b = buf.bytes;
        if (h == 2) {
            b[off] = (byte) m8;
            b[off + 1] = (byte) n;
        } else if (h == 3) {
            b[off] = (byte) m16;
            b[off + 1] = (byte) (n >>> 8);
            b[off + 2] = (byte) n;
        } else {
            b[off] = (byte) m32;
            b[off + 1] = (byte) (n >>> 24);
            b[off + 2] = (byte) (n >>> 16);
            b[off + 3] = (byte) (n >>> 8);
            b[off + 4] = (byte) n;
        }
        return off + h;
    }

    private static int fixedAt(Buffer buf, int off, int marker, long v, int width) {
        buf.ensure(off + 1 + width);
        byte[] b = buf.bytes;
        b[off] = (byte) marker;
        for (int i = width; i >= 1; i--) {
            b[off + i] = (byte) v;
            v >>= 8;
        }
        return off + 1 + width;
    }

    /** One value as a document; {@code value} is not null. */
    byte[] encode(Object value) {
        return pack(null, value);
    }

    /** A map of entries as one MessagePack map document, for setAll. */
    byte[] encodeEntries(Map<String, ?> entries) {
        return pack(entries, null);
    }

    private byte[] pack(Map<String, ?> entries, Object value) {
        Scratch scratch = SCRATCH.get();
        if (scratch.busy) {
            // Reentered, e.g. from a writeObject that stores a value: use a fresh one.
            scratch = new Scratch();
        }
        scratch.busy = true;
        MessageBufferPacker packer = scratch.packer;
        try {
            packer.clear();
            if (entries != null) {
                packer.packMapHeader(entries.size());
                for (Map.Entry<String, ?> e : entries.entrySet()) {
                    Object key = e.getKey();
                    if (!(key instanceof String)) {
                        throw key == null ? new NullPointerException("a key of the map is null")
                                : new IllegalArgumentException("keys are strings, got " + key.getClass().getName());
                    }
                    byte[] k = encodeKey((String) key);
                    packer.packRawStringHeader(k.length);
                    packer.writePayload(k);
                    if (e.getValue() == null) {
                        throw new NullPointerException("the value of key \"" + key + "\" is null");
                    }
                    write(scratch, e.getValue(), 0);
                }
            } else {
                write(scratch, value, 0);
            }
            return packer.toByteArray();
        } catch (IOException e) {
            // A MessageBufferPacker writes to memory: it never fails with I/O.
            throw new IllegalStateException("encoding a value failed", e);
        } finally {
            scratch.busy = false;
            if (packer.getTotalWrittenBytes() > 1 << 16) {
                SCRATCH.remove(); // do not keep a large buffer per thread
            }
        }
    }

    private void write(Scratch s, Object v, int depth) throws IOException {
        MessagePacker p = s.packer;
        if (v == null) {
            p.packNil();
        } else if (v instanceof String) {
            writeString(p, (String) v);
        } else if (v instanceof Integer) {
            fixed(s, (byte) 0xd2, (Integer) v, 4);
        } else if (v instanceof Long) {
            fixed(s, (byte) 0xd3, (Long) v, 8);
        } else if (v instanceof Boolean) {
            p.packBoolean((Boolean) v);
        } else if (v instanceof Double) {
            p.packDouble((Double) v);
        } else if (v instanceof Float) {
            p.packFloat((Float) v);
        } else if (v instanceof Short) {
            fixed(s, (byte) 0xd1, (Short) v, 2);
        } else if (v instanceof Byte) {
            fixed(s, (byte) 0xd0, (Byte) v, 1);
        } else if (v instanceof Character) {
            writeString(p, v.toString());
        } else if (v instanceof byte[]) {
            byte[] b = (byte[]) v;
            p.packBinaryHeader(b.length);
            p.writePayload(b);
        } else if (v instanceof BigInteger) {
            BigInteger b = (BigInteger) v;
            if (b.compareTo(INT64_MIN) < 0 || b.compareTo(UINT64_MAX) > 0) {
                throw new IllegalArgumentException("a BigInteger value is from -2^63 to 2^64-1, got " + b);
            }
            p.packBigInteger(b);
        } else if (v instanceof List) {
            checkDepth(depth + 1);
            List<?> list = (List<?>) v;
            p.packArrayHeader(list.size());
            int n = 0;
            for (Object item : list) {
                write(s, item, depth + 1);
                n++;
            }
            if (n != list.size()) {
                throw new IllegalArgumentException("the list changed while it was being stored");
            }
        } else if (v instanceof Map) {
            checkDepth(depth + 1);
            Map<?, ?> map = (Map<?, ?>) v;
            p.packMapHeader(map.size());
            int n = 0;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String)) {
                    throw new IllegalArgumentException("map keys are strings (so every language can read "
                            + "the map), got " + (e.getKey() == null ? "null" : e.getKey().getClass().getName()));
                }
                byte[] k = encodeKey((String) e.getKey());
                p.packRawStringHeader(k.length);
                p.writePayload(k);
                write(s, e.getValue(), depth + 1);
                n++;
            }
            if (n != map.size()) {
                throw new IllegalArgumentException("the map changed while it was being stored");
            }
        } else if (v instanceof OpaqueValue) {
            OpaqueValue o = (OpaqueValue) v;
            p.packExtensionTypeHeader(o.type(), o.dataUnsafe().length);
            p.writePayload(o.dataUnsafe());
        } else if (serialFilter != null && v instanceof Serializable) {
            byte[] data = serialize(v);
            p.packExtensionTypeHeader(EXT_JAVA, data.length);
            p.writePayload(data);
        } else {
            throw new IllegalArgumentException("cannot store a " + v.getClass().getName()
                    + ": the portable types are String, Integer, Long, Short, Byte, Double, Float, "
                    + "Boolean, Character, byte[], List, Map<String, ?> and OpaqueValue"
                    + (serialFilter == null
                            ? "; other Serializable classes need StoreOptions.withJavaSerialization"
                            : "; with Java serialization on, the class must be Serializable"));
        }
    }

    /**
     * The depth bound on reading: a stored document nested too deep (which the core never
     * stores, but another client of a shared backend may) is a bad stored value, not a bad
     * argument of the caller's.
     */
    private static void checkReadDepth(int depth) {
        if (depth > MAX_DEPTH) {
            throw new StoreBackendException("the stored value nests arrays and maps more than "
                    + MAX_DEPTH + " deep");
        }
    }

    private static void checkDepth(int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("a value nests lists and maps at most " + MAX_DEPTH
                    + " deep (does it contain itself?)");
        }
    }

    private static void writeString(MessagePacker p, String s) throws IOException {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        if (mayHaveReplaced(s, utf8)) {
            checkSurrogates(s, "string");
        }
        p.packRawStringHeader(utf8.length);
        p.writePayload(utf8);
    }

    /** A fixed-width int: the marker, then {@code width} big-endian bytes. */
    private static void fixed(Scratch s, byte marker, long v, int width) throws IOException {
        byte[] b = s.number;
        b[0] = marker;
        for (int i = width; i >= 1; i--) {
            b[i] = (byte) v;
            v >>= 8;
        }
        s.packer.writePayload(b, 0, width + 1);
    }

    // ---- decoding --------------------------------------------------------------------------

    /** What {@link #readScalar} answers for a document it leaves to {@link #decode(byte[])}. */
    static final Object NOT_SCALAR = new Object();

    /**
     * The scalar document {@code b[off, off + len)} as a Java value, read directly; or
     * {@link #NOT_SCALAR} for containers and extensions, which {@link #decode(byte[])} reads.
     */
    static Object readScalar(byte[] b, int off, int len) {
        try {
            int m = b[off] & 0xff;
            if (m <= 0x7f) {
                return m;
            } else if (m >= 0xe0) {
                return (int) (byte) m;
            } else if ((m & 0xe0) == 0xa0) {
                return new String(b, off + 1, m & 0x1f, StandardCharsets.UTF_8);
            }
            switch (m) {
                case 0xc2: return Boolean.FALSE;
                case 0xc3: return Boolean.TRUE;
                case 0xd0: return b[off + 1];
                case 0xd1: return (short) be(b, off + 1, 2);
                case 0xd2: return (int) be(b, off + 1, 4);
                case 0xd3: return be(b, off + 1, 8);
                case 0xcc: return (int) be(b, off + 1, 1) & 0xff;
                case 0xcd: return (int) be(b, off + 1, 2) & 0xffff;
                case 0xce: {
                    long v = be(b, off + 1, 4) & 0xffffffffL;
                    return v <= Integer.MAX_VALUE ? (Object) (int) v : (Object) v;
                }
                case 0xcf: {
                    long v = be(b, off + 1, 8);
                    if (v < 0) {
                        return new BigInteger(1, Arrays.copyOfRange(b, off + 1, off + 9));
                    }
                    return v <= Integer.MAX_VALUE ? (Object) (int) v : (Object) v;
                }
                case 0xca: return Float.intBitsToFloat((int) be(b, off + 1, 4));
                case 0xcb: return Double.longBitsToDouble(be(b, off + 1, 8));
                case 0xd9: return new String(b, off + 2, (int) be(b, off + 1, 1) & 0xff, StandardCharsets.UTF_8);
                case 0xda: return new String(b, off + 3, (int) be(b, off + 1, 2) & 0xffff, StandardCharsets.UTF_8);
                case 0xdb: return new String(b, off + 5, (int) be(b, off + 1, 4), StandardCharsets.UTF_8);
                case 0xc4: return Arrays.copyOfRange(b, off + 2, off + 2 + ((int) be(b, off + 1, 1) & 0xff));
                case 0xc5: return Arrays.copyOfRange(b, off + 3, off + 3 + ((int) be(b, off + 1, 2) & 0xffff));
                case 0xc6: return Arrays.copyOfRange(b, off + 5, off + 5 + (int) be(b, off + 1, 4));
                default: return NOT_SCALAR;
            }
        } catch (IndexOutOfBoundsException | NegativeArraySizeException | IllegalArgumentException e) {
            throw new StoreBackendException("the stored value is not a valid MessagePack document", e);
        }
    }

    /** {@code width} big-endian bytes at {@code off}, sign-extended from the first. */
    private static long be(byte[] b, int off, int width) {
        long v = b[off];
        for (int i = 1; i < width; i++) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }

    /** A document as a Java value. */
    Object decode(byte[] doc) {
        try (MessageUnpacker u = MessagePack.newDefaultUnpacker(doc)) {
            return read(u, 0);
        } catch (IOException | MessagePackException e) {
            throw new StoreBackendException("the stored value is not a valid MessagePack document: " + e.getMessage(), e);
        }
    }

    /** A MessagePack array of str, as an unmodifiable set in the backend's order. */
    static Set<String> decodeKeys(byte[] doc) {
        try (MessageUnpacker u = MessagePack.newDefaultUnpacker(doc)) {
            int n = u.unpackArrayHeader();
            Set<String> keys = new LinkedHashSet<>(Math.max(4, n * 2));
            for (int i = 0; i < n; i++) {
                keys.add(readString(u));
            }
            return Collections.unmodifiableSet(keys);
        } catch (IOException | MessagePackException e) {
            throw new StoreBackendException("the key list is not valid MessagePack: " + e.getMessage(), e);
        }
    }

    /** A MessagePack map document as a mutable map in the document's order. */
    Map<String, Object> decodeMap(byte[] doc) {
        try (MessageUnpacker u = MessagePack.newDefaultUnpacker(doc)) {
            int n = u.unpackMapHeader();
            Map<String, Object> map = new LinkedHashMap<>(Math.min(n, 1024) * 2);
            for (int i = 0; i < n; i++) {
                String key = readString(u);
                // Each value is a document of its own: its depth starts again at 0.
                map.put(key, read(u, 0));
            }
            return map;
        } catch (IOException | MessagePackException e) {
            throw new StoreBackendException("the entries are not a valid MessagePack map: " + e.getMessage(), e);
        }
    }

    private static String readString(MessageUnpacker u) throws IOException {
        int len = u.unpackRawStringHeader();
        return new String(u.readPayload(len), StandardCharsets.UTF_8);
    }

    private Object read(MessageUnpacker u, int depth) throws IOException {
        MessageFormat f = u.getNextFormat();
        switch (f) {
            case NIL:
                u.unpackNil();
                return null;
            case BOOLEAN:
                return u.unpackBoolean();
            case INT8:
                return u.unpackByte();
            case INT16:
                return u.unpackShort();
            case INT32:
                return u.unpackInt();
            case INT64:
                return u.unpackLong();
            case POSFIXINT:
            case NEGFIXINT:
            case UINT8:
            case UINT16:
                return u.unpackInt();
            case UINT32:
            case UINT64: {
                BigInteger b = u.unpackBigInteger();
                if (b.bitLength() < 32) {
                    return b.intValue();
                }
                return b.bitLength() < 64 ? (Object) b.longValue() : b;
            }
            case FLOAT32:
                return u.unpackFloat();
            case FLOAT64:
                return u.unpackDouble();
            case FIXSTR:
            case STR8:
            case STR16:
            case STR32:
                return readString(u);
            case BIN8:
            case BIN16:
            case BIN32:
                return u.readPayload(u.unpackBinaryHeader());
            case FIXARRAY:
            case ARRAY16:
            case ARRAY32: {
                checkReadDepth(depth + 1);
                int n = u.unpackArrayHeader();
                List<Object> list = new ArrayList<>(Math.min(n, 1024));
                for (int i = 0; i < n; i++) {
                    list.add(read(u, depth + 1));
                }
                return list;
            }
            case FIXMAP:
            case MAP16:
            case MAP32: {
                checkReadDepth(depth + 1);
                int n = u.unpackMapHeader();
                Map<String, Object> map = new LinkedHashMap<>(Math.min(n, 1024) * 2);
                for (int i = 0; i < n; i++) {
                    String key = readString(u);
                    map.put(key, read(u, depth + 1));
                }
                return map;
            }
            case FIXEXT1:
            case FIXEXT2:
            case FIXEXT4:
            case FIXEXT8:
            case FIXEXT16:
            case EXT8:
            case EXT16:
            case EXT32: {
                ExtensionTypeHeader h = u.unpackExtensionTypeHeader();
                byte[] data = u.readPayload(h.getLength());
                if (h.getType() == EXT_JAVA && serialFilter != null) {
                    return deserialize(data);
                }
                return new OpaqueValue(h.getType(), data);
            }
            default:
                throw new StoreBackendException("the stored value has the unused MessagePack byte 0xc1");
        }
    }

    // ---- Java serialization (extension 74), only with an allow-list --------------------------

    /** Serializes {@code v}, then reads it back through the allow-list, so that only what the
     *  allow-list accepts is ever written (every class inside {@code v} included). */
    private byte[] serialize(Object v) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(v);
        } catch (NotSerializableException e) {
            throw new IllegalArgumentException("cannot store a " + v.getClass().getName()
                    + ": it holds a " + e.getMessage() + ", which is not Serializable", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot serialize a " + v.getClass().getName() + ": " + e, e);
        }
        byte[] data = bytes.toByteArray();
        deserialize(data);
        return data;
    }

    private Object deserialize(byte[] data) {
        try (ObjectInputStream in = new AllowListInput(data, serialFilter)) {
            return in.readObject();
        } catch (InvalidClassException e) {
            throw new IllegalArgumentException("a Java-serialized value holds a class the allow-list "
                    + "of StoreOptions.withJavaSerialization rejects: " + e.getMessage(), e);
        } catch (IOException | ClassNotFoundException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read a Java-serialized value: " + e, e);
        }
    }

    /** Reads with the allow-list, resolving classes through the thread's context class loader
     *  first (an application server's classes are not visible to this library's loader). */
    private static final class AllowListInput extends ObjectInputStream {
        AllowListInput(byte[] data, ObjectInputFilter filter) throws IOException {
            super(new ByteArrayInputStream(data));
            setObjectInputFilter(filter);
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            ClassLoader loader = Thread.currentThread().getContextClassLoader();
            if (loader != null) {
                try {
                    return Class.forName(desc.getName(), false, loader);
                } catch (ClassNotFoundException e) {
                    // fall back to the default resolution below
                }
            }
            return super.resolveClass(desc);
        }
    }
}
