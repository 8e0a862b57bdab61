package io.sessionstore.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.handler.AuthorizeHandler;
import com.corundumstudio.socketio.namespace.NamespacesHub;
import com.corundumstudio.socketio.store.MemoryPubSubStore;
import com.corundumstudio.socketio.store.Store;

import io.sessionstore.FactoryClosedException;
import io.sessionstore.StoreFactory;
import io.sessionstore.StoreOptions;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** The factory's own contract, without a server: maps, shutdown, pub/sub, values, the warning. */
class FactoryTest {
    /** A type the portable format lacks. */
    static final class Profile implements Serializable {
        private static final long serialVersionUID = 1L;
        final String name;

        Profile(String name) {
            this.name = name;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Profile && ((Profile) o).name.equals(name);
        }

        @Override
        public int hashCode() {
            return Objects.hash(name);
        }
    }

    @Test
    void createMapIsOneMapPerNameUntilShutdown() {
        SessionStoreFactory factory = new SessionStoreFactory("memory://");
        Map<String, Integer> a = factory.createMap("a");
        a.put("x", 1);
        assertSame(a, factory.createMap("a"));
        assertEquals(1, factory.<String, Integer>createMap("a").get("x"));
        assertNotSame(a, factory.createMap("b"));
        assertTrue(factory.createMap("b").isEmpty());
        factory.shutdown();
        assertTrue(factory.createMap("a").isEmpty(), "shutdown forgets the maps");
    }

    @Test
    void shutdownReleasesEveryHandleAndLeavesAGivenFactoryOpen() {
        try (StoreFactory core = StoreFactory.open("memory://")) {
            SessionStoreFactory factory = new SessionStoreFactory(core);
            UUID sid = UUID.randomUUID();
            Store store = factory.createStore(sid);
            store.set("userId", 42);
            factory.shutdown();
            assertThrows(IllegalStateException.class, () -> store.get("userId"), "the handle is released");
            assertThrows(FactoryClosedException.class, () -> factory.createStore(UUID.randomUUID()));
            assertFalse(core.isClosed(), "a factory passed in stays open");
            try (io.sessionstore.Store again = core.createStore(sid)) {
                assertEquals(42, (Integer) again.get("userId"), "released, not destroyed");
            }
            factory.shutdown(); // twice: nothing happens
        }
    }

    @Test
    void shutdownClosesTheFactoryItOpened() {
        SessionStoreFactory factory = new SessionStoreFactory("memory://");
        Store store = factory.createStore(UUID.randomUUID());
        store.set("k", "v");
        assertEquals("SessionStoreFactory[StoreFactory[memory://], MemoryPubSubStore]", factory.toString());
        factory.shutdown();
        assertEquals("SessionStoreFactory[StoreFactory[memory://, closed], MemoryPubSubStore]", factory.toString());
        assertThrows(FactoryClosedException.class, () -> factory.createStore(UUID.randomUUID()));
    }

    @Test
    void thePubSubFunctionMakesThePubSubStoreOnceAndShutdownStopsIt() {
        List<Long> nodeIds = new ArrayList<>();
        AtomicInteger stopped = new AtomicInteger();
        MemoryPubSubStore pubSub = new MemoryPubSubStore() {
            @Override
            public void shutdown() {
                stopped.incrementAndGet();
            }
        };
        SessionStoreFactory factory = new SessionStoreFactory("memory://", nodeId -> {
            nodeIds.add(nodeId);
            return pubSub;
        });
        assertEquals(1, nodeIds.size());
        assertSame(pubSub, factory.pubSubStore());
        factory.shutdown();
        factory.shutdown();
        assertEquals(1, stopped.get());
        assertThrows(NullPointerException.class, () -> new SessionStoreFactory("memory://", nodeId -> null));
    }

    @Test
    void javaSerializationOnlyWithTheCoresOptIn() {
        SessionStoreFactory plain = new SessionStoreFactory("memory://");
        try {
            Store store = plain.createStore(UUID.randomUUID());
            assertThrows(IllegalArgumentException.class, () -> store.set("profile", new Profile("ann")));
        } finally {
            plain.shutdown();
        }
        try (StoreFactory core = StoreFactory.open("memory://", StoreOptions.defaults().withJavaSerialization(Profile.class))) {
            SessionStoreFactory factory = new SessionStoreFactory(core);
            Store store = factory.createStore(UUID.randomUUID());
            store.set("profile", new Profile("ann"));
            assertEquals(new Profile("ann"), store.get("profile"));
            factory.shutdown();
        }
    }

    @Test
    void clientChosenSessionsAreWarnedAboutOnce() {
        assertEquals(1, warningsOnTwoInits(false), "randomSession false: one warning");
        assertEquals(0, warningsOnTwoInits(true), "randomSession true: none");
    }

    /** Initialises a factory twice, as netty-socketio's start does, and counts the warnings. */
    private static int warningsOnTwoInits(boolean randomSession) {
        Configuration config = new Configuration();
        config.setRandomSession(randomSession);
        SessionStoreFactory factory = new SessionStoreFactory("memory://");
        config.setStoreFactory(factory);
        NamespacesHub hub = new NamespacesHub(config);
        AuthorizeHandler handler = new AuthorizeHandler("/socket.io/", null, config, hub, factory, null, null, null);
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            factory.init(hub, handler, config.getJsonSupport());
            factory.init(hub, handler, config.getJsonSupport());
        } finally {
            System.setErr(err);
            factory.shutdown();
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        return (int) log.lines().filter(l -> l.contains("WARN") && l.contains("setRandomSession(true)")).count();
    }
}
