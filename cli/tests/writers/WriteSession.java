import io.sessionstore.OpaqueValue;
import io.sessionstore.Store;
import io.sessionstore.StoreFactory;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes two sessions through the Java binding for the CLI tests (cli/tests/cli.rs): PLAIN
 * without a lease holding a value of every Java type of docs/API.md §3, and LEASED with one.
 * Usage: java -cp sessionstore.jar WriteSession.java URL PLAIN LEASED
 */
public class WriteSession {
    public static void main(String[] args) {
        String url = args[0];
        String sep = url.contains("?") ? "&" : "?";
        try (StoreFactory factory = StoreFactory.open(url);
                Store store = factory.createStore(args[1])) {
            Map<String, Object> nested = new LinkedHashMap<>();
            nested.put("z", 1);
            nested.put("a", Arrays.asList(true, null));
            store.set("integer", 7);
            store.set("long", 1L << 40);
            store.set("short", (short) -3);
            store.set("byte", (byte) 5);
            store.set("float", 0.25f);
            store.set("double", 1.5d);
            store.set("string", "hello from Java");
            store.set("char", 'c');
            store.set("bytes", new byte[] {1, 2, 3});
            store.set("boolean", true);
            store.set("list", Arrays.asList("a", null, 2));
            store.set("map", nested);
            store.set("opaque", new OpaqueValue((byte) 74, new byte[] {(byte) 0xac, (byte) 0xed}));
        }
        try (StoreFactory factory = StoreFactory.open(url + sep + "ttl_ms=60000");
                Store store = factory.createStore(args[2])) {
            store.set("userId", 8);
        }
    }
}
