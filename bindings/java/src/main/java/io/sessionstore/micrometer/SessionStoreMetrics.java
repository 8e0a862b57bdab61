package io.sessionstore.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.sessionstore.StoreFactory;
import java.util.Map;
import java.util.Objects;

/**
 * A Micrometer {@link MeterBinder} of a factory's stats (docs/API.md §12), for the registries
 * Micrometer exports to (Prometheus, JMX, Datadog…). Micrometer is an optional dependency of
 * the jar: add {@code io.micrometer:micrometer-core} to use this class.
 *
 * <pre>{@code
 * new SessionStoreMetrics(factory).bindTo(registry);
 * }</pre>
 *
 * <p>Meters, each tagged with the factory's {@code backend} ({@code memory}, {@code redis},
 * {@code redis+cluster}…) and the binder's extra tags:
 *
 * <ul>
 *   <li>{@code sessionstore.calls} (counter, tag {@code op}: {@code get}, {@code set}…): calls,
 *       failed ones included; Prometheus {@code sessionstore_calls_total};
 *   <li>{@code sessionstore.errors} (counter, tag {@code kind}: {@code Timeout},
 *       {@code Backend}…): failed calls;
 *   <li>{@code sessionstore.call.latency} (gauge, tag {@code quantile}: 0.5, 0.99, 1 for the
 *       slowest, in microseconds) and {@code sessionstore.timed.calls} (counter): the latency of
 *       remote calls;
 *   <li>{@code sessionstore.open.stores} (gauge);
 *   <li>{@code sessionstore.lease.rounds}, {@code .renewals}, {@code .overruns} (counters): the
 *       lease refresher's work;
 *   <li>{@code sessionstore.near.cache.hits}, {@code .misses}, {@code .invalidations} (counters)
 *       and {@code sessionstore.near.cache.sessions}, {@code .bytes} (gauges): the near cache's
 *       work and size (zeros without one).
 * </ul>
 *
 * <p>Each meter reads the factory's stats when the registry reads it; once the factory is
 * closed the meters read {@code NaN}.
 */
public final class SessionStoreMetrics implements MeterBinder {
    private static final String[] OPS = {
        "open", "get", "set", "has", "del", "len", "keys", "get_all", "set_many", "replace_all", "destroy", "destroy_session"
    };
    private static final String[] KINDS = {
        "NullArg", "InvalidArg", "TooLarge", "InvalidHandle", "Destroyed", "Closed", "Config", "Backend",
        "Timeout", "Type", "Internal"
    };

    private final StoreFactory factory;
    private final Tags tags;

    /**
     * A binder of {@code factory}'s stats.
     *
     * @param factory the factory to observe
     * @param tags extra tags for every meter (e.g. a name, when several factories are bound)
     */
    public SessionStoreMetrics(StoreFactory factory, Tag... tags) {
        this.factory = Objects.requireNonNull(factory, "factory");
        String url = factory.url();
        this.tags = Tags.of(tags).and("backend", url.substring(0, Math.max(url.indexOf("://"), 0)));
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (String op : OPS) {
            counter(registry, "sessionstore.calls", "Store calls, failed ones included", tags.and("op", op),
                    "calls", op);
        }
        for (String kind : KINDS) {
            counter(registry, "sessionstore.errors", "Failed store calls", tags.and("kind", kind), "errors", kind);
        }
        String[][] quantiles = {{"0.5", "p50"}, {"0.99", "p99"}, {"1", "max"}};
        for (String[] q : quantiles) {
            Gauge.builder("sessionstore.call.latency", this, m -> m.read("latency_us", q[1]))
                    .description("Latency of remote store calls (quantile 1: the slowest)")
                    .baseUnit("microseconds")
                    .tags(tags.and("quantile", q[0]))
                    .register(registry);
        }
        counter(registry, "sessionstore.timed.calls", "Remote store calls timed", tags, "latency_us", "count");
        Gauge.builder("sessionstore.open.stores", this, m -> m.read("open_stores", null))
                .description("Stores open now")
                .tags(tags)
                .register(registry);
        counter(registry, "sessionstore.lease.rounds", "Lease refresher rounds", tags, "lease", "rounds");
        counter(registry, "sessionstore.lease.renewals", "Session leases renewed", tags, "lease", "renewals");
        counter(registry, "sessionstore.lease.overruns", "Lease refresher rounds longer than their period", tags,
                "lease", "overruns");
        counter(registry, "sessionstore.near.cache.hits", "Reads answered from the near cache", tags, "near_cache",
                "hits");
        counter(registry, "sessionstore.near.cache.misses", "Reads the near cache sent to the server", tags,
                "near_cache", "misses");
        counter(registry, "sessionstore.near.cache.invalidations", "Cached sessions forgotten because they changed",
                tags, "near_cache", "invalidations");
        for (String part : new String[] {"sessions", "bytes"}) {
            Gauge.builder("sessionstore.near.cache." + part, this, m -> m.read("near_cache", part))
                    .description(part.equals("bytes") ? "Bytes in the near cache now" : "Sessions in the near cache now")
                    .tags(tags)
                    .register(registry);
        }
    }

    private void counter(MeterRegistry registry, String name, String description, Tags meterTags, String field,
            String key) {
        FunctionCounter.builder(name, this, m -> m.read(field, key))
                .description(description)
                .tags(meterTags)
                .register(registry);
    }

    /** The number at {@code field} (or {@code field.key}) of the stats; NaN once closed. */
    private double read(String field, String key) {
        Map<String, Object> stats;
        try {
            stats = factory.stats();
        } catch (IllegalStateException closed) {
            return Double.NaN;
        }
        Object value = stats.get(field);
        if (key != null && value instanceof Map) {
            value = ((Map<?, ?>) value).get(key);
        }
        return value instanceof Number ? ((Number) value).doubleValue() : Double.NaN;
    }
}
