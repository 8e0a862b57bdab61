package io.sessionstore;

/**
 * The backend refused an operation, or the connection to it failed (or, rarely, the native
 * layer hit a bug, which it reports instead of crashing the JVM).
 *
 * <p>Retrying later may succeed; {@link StoreTimeoutException} is the case where an operation
 * passed the url's {@code timeout_ms}.
 */
public class StoreBackendException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed; never contains a password
     */
    public StoreBackendException(String message) {
        super(message);
    }

    /**
     * Creates the exception with its cause.
     *
     * @param message what failed; never contains a password
     * @param cause the underlying failure
     */
    public StoreBackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
