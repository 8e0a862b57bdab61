package io.sessionstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;

import org.junit.jupiter.api.Test;

/**
 * Hazelcast's own Java client reads what our core wrote on the harness's member. Its smart
 * routing computes each key's partition itself and asks that partition only, so finding the
 * entry proves our requests named the right partition (a wrong one stores the entry where no
 * client looks). Its delete is a destroy our open handles see.
 */
class HazelcastClientTest {
    @Test
    void theOfficialClientFindsOurEntryAndItsDeleteDestroysTheSession() {
        String url = Backends.first("hazelcast://");
        assumeTrue(url != null, "SESSIONSTORE_TEST_URLS has no hazelcast:// url");
        HazelcastInstance client = OfficialClient.connect(url);
        String prefix = "hc" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String sid = Backends.sid();
        try (StoreFactory factory = StoreFactory.open(Backends.withOption(url, "prefix=" + prefix));
                Store store = factory.createStore(sid)) {
            store.set("userId", 7);
            IMap<String, byte[]> sessions = client.getMap("sessionstore");
            String key = prefix + ":" + sid;
            assertTrue(sessions.containsKey(key), "the official client finds " + key);
            byte[] entry = sessions.get(key);
            assertNotNull(entry);
            // One MessagePack array of three; first the generation (bin 8), which starts with
            // the prefix and '/'.
            assertEquals((byte) 0x93, entry[0]);
            assertEquals((byte) 0xc4, entry[1]);
            byte[] start = (prefix + "/").getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(start, Arrays.copyOfRange(entry, 3, 3 + start.length));
            sessions.delete(key);
            assertThrows(StoreDestroyedException.class, () -> store.get("userId"));
        } finally {
            client.shutdown();
        }
    }
}
