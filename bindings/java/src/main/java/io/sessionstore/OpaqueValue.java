package io.sessionstore;

import java.util.Arrays;
import java.util.Objects;

/**
 * A value another language wrote in its own format, which Java cannot read as a Java type: a
 * MessagePack extension type and its bytes. For example Python's pickled objects are type 80
 * ({@code 'P'}); Java-serialized objects (type 74, {@code 'J'}) read as an {@code OpaqueValue}
 * from a factory that did not enable Java serialization.
 *
 * <p>Storing an {@code OpaqueValue} writes it back unchanged, so a value can be copied between
 * sessions without being understood.
 */
public final class OpaqueValue {
    private final byte type;
    private final byte[] data;

    /**
     * Creates an opaque value.
     *
     * @param type the MessagePack extension type
     * @param data the extension's bytes (copied)
     * @throws NullPointerException if {@code data} is null
     */
    public OpaqueValue(byte type, byte[] data) {
        this.type = type;
        this.data = Objects.requireNonNull(data, "data").clone();
    }

    /**
     * The MessagePack extension type, e.g. 80 for a Python pickle.
     *
     * @return the type
     */
    public byte type() {
        return type;
    }

    /**
     * The extension's bytes.
     *
     * @return a copy of the bytes
     */
    public byte[] data() {
        return data.clone();
    }

    byte[] dataUnsafe() {
        return data;
    }

    /**
     * Equal when the type and the bytes are.
     *
     * @param other the object to compare with
     * @return whether both hold the same type and bytes
     */
    @Override
    public boolean equals(Object other) {
        if (this == other) {
            return true;
        }
        if (!(other instanceof OpaqueValue)) {
            return false;
        }
        OpaqueValue that = (OpaqueValue) other;
        return type == that.type && Arrays.equals(data, that.data);
    }

    /**
     * A hash of the type and the bytes.
     *
     * @return the hash
     */
    @Override
    public int hashCode() {
        return 31 * type + Arrays.hashCode(data);
    }

    /**
     * The type and the length, not the bytes.
     *
     * @return e.g. {@code OpaqueValue[type=80, 42 bytes]}
     */
    @Override
    public String toString() {
        return "OpaqueValue[type=" + type + ", " + data.length + " bytes]";
    }
}
