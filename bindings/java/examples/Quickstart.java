import io.sessionstore.Store;
import io.sessionstore.StoreFactory;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Compile and run with the jar alone: javac -cp sessionstore.jar Quickstart.java */
public class Quickstart {
    public static void main(String[] args) {
        String url = args.length > 0 ? args[0] : "memory://";
        try (StoreFactory factory = StoreFactory.open(url)) {
            UUID session = UUID.randomUUID();
            try (Store store = factory.createStore(session)) {
                store.set("userId", 42);
                store.set("claims", Map.of("role", "admin", "rooms", List.of("lobby", "ops")));
                Integer userId = store.get("userId");
                Map<String, Object> claims = store.get("claims");
                System.out.println("userId=" + userId + " role=" + claims.get("role") + " keys=" + store.keys());
                store.destroy(); // on disconnect: the session's data is gone
            }
        }
    }
}
