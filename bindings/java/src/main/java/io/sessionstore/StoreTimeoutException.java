package io.sessionstore;

/** A remote operation (connecting included) took longer than the url's {@code timeout_ms}. */
public class StoreTimeoutException extends StoreBackendException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message which operation timed out
     */
    public StoreTimeoutException(String message) {
        super(message);
    }
}
