package io.sessionstore;

/**
 * The session was destroyed (by {@link Store#destroy()}, {@link StoreFactory#destroySession},
 * another node, or its lease running out) after this store was opened. Every handle that was
 * open on it answers this until closed; {@link StoreFactory#createStore(String)} of the same id
 * starts a new, empty session.
 */
public class StoreDestroyedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message which session
     */
    public StoreDestroyedException(String message) {
        super(message);
    }
}
