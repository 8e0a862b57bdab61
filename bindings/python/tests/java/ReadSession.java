import io.sessionstore.Store;
import io.sessionstore.StoreFactory;

/**
 * The Java half of test_socketio.py's cross-language test: opens session SID on URL with the
 * Java binding and prints each key as {@code key=JavaType:value}, sorted by key.
 *
 * <pre>java -cp sessionstore-0.1.0.jar ReadSession.java URL SID</pre>
 */
public class ReadSession {
    public static void main(String[] args) {
        try (StoreFactory factory = StoreFactory.open(args[0]);
             Store store = factory.createStore(args[1])) {
            store.keys().stream().sorted().forEach(key -> {
                Object value = store.get(key);
                System.out.println(key + "=" + value.getClass().getSimpleName() + ":" + value);
            });
        }
    }
}
