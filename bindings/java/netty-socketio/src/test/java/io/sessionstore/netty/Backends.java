package io.sessionstore.netty;

import java.util.Arrays;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The backends the suite runs on: {@code -Dsessionstore.test.urls} or the environment variable
 * {@code SESSIONSTORE_TEST_URLS}, separated by whitespace (urls hold commas, never spaces),
 * default {@code memory://}, as {@code tests/redis/harness.sh} exports them.
 */
final class Backends {
    private Backends() {}

    static Stream<String> urls() {
        String urls = System.getProperty("sessionstore.test.urls");
        if (urls == null || urls.isBlank()) {
            urls = System.getenv("SESSIONSTORE_TEST_URLS");
        }
        if (urls == null || urls.isBlank()) {
            urls = "memory://";
        }
        return Arrays.stream(urls.trim().split("\\s+"));
    }

    /** The Redis urls of the list (standalone, Sentinel, Cluster). */
    static Stream<String> redisUrls() {
        return urls().filter(Backends::isRedis);
    }

    static boolean isRedis(String url) {
        return url.startsWith("redis");
    }

    /** The url with a fresh {@code prefix}, so no run sees another's keys. */
    static String withFreshPrefix(String url) {
        return withOption(url, "prefix=" + freshPrefix());
    }

    static String freshPrefix() {
        return "nt" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    }

    /** Appends an option to a url that may already have a query string. */
    static String withOption(String url, String option) {
        return url + (url.contains("?") ? "&" : "?") + option;
    }

    /** The value of the url's {@code prefix} option. */
    static String prefixOf(String url) {
        int at = url.indexOf("prefix=");
        int end = url.indexOf('&', at);
        return url.substring(at + "prefix=".length(), end < 0 ? url.length() : end);
    }
}
