package io.sessionstore;

/** The {@link StoreFactory} was closed: neither it nor any store it opened can be used. */
public class FactoryClosedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was attempted
     */
    public FactoryClosedException(String message) {
        super(message);
    }
}
