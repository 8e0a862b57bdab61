import io.sessionstore.Store;
import io.sessionstore.StoreFactory;
import java.util.List;
import java.util.Map;
import java.util.UUID;

public class Quickstart {
    public static void main(String[] args) {
        try (StoreFactory factory = StoreFactory.open("memory://")) {   // or "redis://127.0.0.1:6379/0"
            UUID session = UUID.randomUUID();
            try (Store store = factory.createStore(session)) {        // a client connects
                store.set("userId", 42);
                store.set("claims", Map.of("role", "admin", "rooms", List.of("lobby", "ops")));
                Integer userId = store.get("userId");                 // missing -> null
                Map<String, Object> claims = store.get("claims");
                System.out.println("userId=" + userId + " role=" + claims.get("role"));
                store.destroy();                                      // the client disconnects
            }
        }
    }
}
