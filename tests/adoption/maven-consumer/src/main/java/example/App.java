package example;

import io.sessionstore.Store;
import io.sessionstore.StoreFactory;
import java.util.UUID;

/** A user's program: the jar from the local repository, nothing else on the class path. */
public final class App {
    private App() {}

    public static void main(String[] args) {
        try (StoreFactory factory = StoreFactory.open("memory://");
                Store store = factory.createStore(UUID.randomUUID())) {
            store.set("userId", 42);
            Integer id = store.get("userId");
            System.out.println("userId = " + id);
            store.destroy();
        }
    }
}
