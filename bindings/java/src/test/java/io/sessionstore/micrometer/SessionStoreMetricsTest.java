package io.sessionstore.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Tag;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sessionstore.Store;
import io.sessionstore.StoreFactory;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The binder scraped through a Prometheus registry: its samples are the factory's stats. */
class SessionStoreMetricsTest {
    /** The samples of a Prometheus text scrape: "name{labels}" to value. */
    private static Map<String, Double> parse(String text) {
        Map<String, Double> samples = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return samples;
    }

    /** The sample key of `name` with the binder's labels and `extra`, labels sorted as scraped. */
    private static String key(String name, String... extra) {
        java.util.TreeMap<String, String> labels = new java.util.TreeMap<>();
        labels.put("backend", "memory");
        labels.put("name", "test");
        for (int i = 0; i < extra.length; i += 2) {
            labels.put(extra[i], extra[i + 1]);
        }
        StringBuilder out = new StringBuilder(name).append('{');
        labels.forEach((k, v) -> out.append(k).append("=\"").append(v).append("\","));
        out.setLength(out.length() - 1);
        return out.append('}').toString();
    }

    @Test
    void aScrapeShowsTheStats() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        StoreFactory factory = StoreFactory.open("memory://");
        new SessionStoreMetrics(factory, Tag.of("name", "test")).bindTo(registry);
        try (Store store = factory.createStore(UUID.randomUUID())) {
            store.set("a", 1);
            assertEquals(1, (Integer) store.get("a"));
            store.get("missing");
            Map<String, Double> samples = parse(registry.scrape());
            assertEquals(2.0, samples.get(key("sessionstore_calls_total", "op", "get")), samples.toString());
            assertEquals(1.0, samples.get(key("sessionstore_calls_total", "op", "set")));
            assertEquals(1.0, samples.get(key("sessionstore_calls_total", "op", "open")));
            assertEquals(0.0, samples.get(key("sessionstore_errors_total", "kind", "Timeout")));
            assertEquals(1.0, samples.get(key("sessionstore_open_stores")));
            assertEquals(0.0, samples.get(key("sessionstore_timed_calls_total")), "memory calls are not timed");
            assertTrue(samples.containsKey(key("sessionstore_call_latency_microseconds", "quantile", "0.99")));
            assertEquals(0.0, samples.get(key("sessionstore_lease_overruns_total")));
            assertEquals(0.0, samples.get(key("sessionstore_near_cache_hits_total")), "memory has no near cache");
            assertEquals(0.0, samples.get(key("sessionstore_near_cache_sessions")));
            store.destroy();
        }
        factory.close();
        Map<String, Double> closed = parse(registry.scrape());
        assertFalse(closed.isEmpty());
        assertTrue(closed.get(key("sessionstore_open_stores")).isNaN(),
                "a closed factory's meters read NaN");
    }
}
