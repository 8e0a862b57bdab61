package io.sessionstore;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Arrays;
import java.util.UUID;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The backends the suite runs on: {@code -Dsessionstore.test.urls} or the environment variable
 * {@code SESSIONSTORE_TEST_URLS}, separated by whitespace (urls hold commas, never spaces),
 * default {@code memory://}, as {@code tests/redis/harness.sh} writes the list. Add a
 * {@code redis://127.0.0.1:PORT/DB} url to run every {@link EachBackend} test on Redis too.
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

    /** The first url of the list on the given scheme ({@code "redis://"}), or null. */
    static String first(String scheme) {
        return urls().filter(u -> u.startsWith(scheme)).findFirst().orElse(null);
    }

    /** A fresh session id, so runs on a shared Redis never see each other's data. */
    static String sid() {
        return "test-" + UUID.randomUUID();
    }

    /** Appends an option to a url that may already have a query string. */
    static String withOption(String url, String option) {
        return url + (url.contains("?") ? "&" : "?") + option;
    }

    /** A test that runs once per backend url, which it gets as its first parameter. */
    @Target(ElementType.METHOD)
    @Retention(RetentionPolicy.RUNTIME)
    @ParameterizedTest(name = "{0}")
    @MethodSource("io.sessionstore.Backends#urls")
    @interface EachBackend {}
}
