package io.sessionstore;

import java.io.ObjectInputFilter;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;

/**
 * Java-side options of a {@link StoreFactory}; the backend's own options (prefix, timeout,
 * lease, size limit) ride on the url.
 *
 * <p>The one option today is Java serialization: off by default, so an object of a type the
 * portable format lacks is rejected with {@link IllegalArgumentException}. Turned on with a
 * class allow-list, such an object (if {@link java.io.Serializable}) is stored Java-serialized
 * (MessagePack extension 74), and only classes the allow-list accepts are ever written or read
 * back: language-native deserialization of shared data is never on by default.
 *
 * <pre>{@code
 * StoreOptions options = StoreOptions.defaults().withJavaSerialization(UserProfile.class);
 * StoreFactory factory = StoreFactory.open("memory://", options);
 * }</pre>
 *
 * <p>Instances are immutable; each {@code with…} method returns a new one.
 */
public final class StoreOptions {
    private static final StoreOptions DEFAULTS = new StoreOptions(null);

    /**
     * Value classes every allow-list accepts: they carry no code to run when read. Object is
     * there for {@code Object[]}, which collections such as ArrayList check before reading their
     * elements (each element's class is checked on its own).
     */
    private static final Set<Class<?>> ALWAYS_ALLOWED = Set.of(
            Object.class, String.class, Boolean.class, Character.class, Number.class, Byte.class, Short.class,
            Integer.class, Long.class, Float.class, Double.class, Enum.class);

    private final ObjectInputFilter serialFilter;

    private StoreOptions(ObjectInputFilter serialFilter) {
        this.serialFilter = serialFilter;
    }

    /**
     * The defaults: Java serialization off.
     *
     * @return the default options
     */
    public static StoreOptions defaults() {
        return DEFAULTS;
    }

    /**
     * Turns Java serialization on, for exactly the given classes (and arrays of them). The boxed
     * primitives, {@code String}, {@code Enum} and arrays of primitives are always accepted, as
     * fields of an allowed class need them; so is {@code Object[]}, the array collections
     * allocate before their elements are checked.
     *
     * @param allowed the classes that may be stored and read back Java-serialized; at least one
     * @return new options with serialization on
     * @throws NullPointerException if {@code allowed} or one of its elements is null
     * @throws IllegalArgumentException if {@code allowed} is empty
     */
    public StoreOptions withJavaSerialization(Class<?>... allowed) {
        Objects.requireNonNull(allowed, "allowed");
        if (allowed.length == 0) {
            throw new IllegalArgumentException("the allow-list names no class");
        }
        Set<Class<?>> classes = Set.copyOf(Arrays.asList(allowed));
        return withJavaSerialization(info -> {
            Class<?> c = info.serialClass();
            if (c == null) {
                return ObjectInputFilter.Status.UNDECIDED;
            }
            while (c.isArray()) {
                c = c.getComponentType();
            }
            return classes.contains(c) ? ObjectInputFilter.Status.ALLOWED
                    : ObjectInputFilter.Status.UNDECIDED;
        });
    }

    /**
     * Turns Java serialization on, with an allow-list given as an {@link ObjectInputFilter} (for
     * example {@code ObjectInputFilter.Config.createFilter("com.example.session.*")}). A class
     * the filter leaves {@code UNDECIDED} is rejected, except the value classes that
     * {@link #withJavaSerialization(Class[])} always accepts.
     *
     * @param allowList decides which classes may be stored and read back
     * @return new options with serialization on
     * @throws NullPointerException if {@code allowList} is null
     */
    public StoreOptions withJavaSerialization(ObjectInputFilter allowList) {
        Objects.requireNonNull(allowList, "allowList");
        return new StoreOptions(info -> {
            ObjectInputFilter.Status status = allowList.checkInput(info);
            if (status != ObjectInputFilter.Status.UNDECIDED) {
                return status;
            }
            Class<?> c = info.serialClass();
            if (c == null) {
                // A check of depth or size only, which the allow-list left open.
                return ObjectInputFilter.Status.ALLOWED;
            }
            while (c.isArray()) {
                c = c.getComponentType();
            }
            return c.isPrimitive() || ALWAYS_ALLOWED.contains(c) ? ObjectInputFilter.Status.ALLOWED
                    : ObjectInputFilter.Status.REJECTED;
        });
    }

    /**
     * Whether Java serialization is on.
     *
     * @return true when objects may be stored Java-serialized
     */
    public boolean javaSerializationEnabled() {
        return serialFilter != null;
    }

    ObjectInputFilter serialFilter() {
        return serialFilter;
    }

    /**
     * A description of the options.
     *
     * @return e.g. {@code StoreOptions[javaSerialization=off]}
     */
    @Override
    public String toString() {
        return "StoreOptions[javaSerialization=" + (serialFilter != null ? "allow-list" : "off") + "]";
    }
}
