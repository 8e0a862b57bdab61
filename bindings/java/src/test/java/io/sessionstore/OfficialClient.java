package io.sessionstore;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.core.HazelcastInstance;

import java.net.URI;

/** Hazelcast's official Java client, connected to the member of one of our urls. */
final class OfficialClient {
    private OfficialClient() {}

    /**
     * A client of the member and cluster {@code url} names ({@code hazelcast://host:port/CLUSTER}),
     * quiet (no logging, no phone-home), with the client's default smart routing.
     */
    static HazelcastInstance connect(String url) {
        URI uri = URI.create(url);
        ClientConfig config = new ClientConfig();
        config.setClusterName(uri.getPath().substring(1));
        config.getNetworkConfig().addAddress(uri.getHost() + ":" + uri.getPort());
        config.setProperty("hazelcast.logging.type", "none");
        config.setProperty("hazelcast.phone.home.enabled", "false");
        return HazelcastClient.newHazelcastClient(config);
    }
}
