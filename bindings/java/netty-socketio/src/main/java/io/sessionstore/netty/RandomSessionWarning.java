package io.sessionstore.netty;

import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.handler.AuthorizeHandler;

import java.lang.reflect.Field;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs, once per factory, that clients may choose their own session ids: with
 * {@code Configuration.isRandomSession()} false (netty-socketio's default) the handshake takes
 * the session id from the client's {@code io} header or cookie, so a client that sends another
 * client's id opens that client's shared session.
 *
 * <p>netty-socketio 2.0.13 hands a store factory no {@code Configuration}: the server's copy of
 * it is a private field of the {@link AuthorizeHandler} that {@code init} receives, which is read
 * here. Where that read fails (another netty-socketio version, or a module path that does not
 * open the package) the warning says it could not tell.
 */
final class RandomSessionWarning {
    private static final Logger log = LoggerFactory.getLogger(SessionStoreFactory.class);
    private final AtomicBoolean done = new AtomicBoolean();

    void check(AuthorizeHandler handler, Object factory) {
        Boolean random = randomSession(handler);
        if (Boolean.TRUE.equals(random) || !done.compareAndSet(false, true)) {
            return;
        }
        String state = random == null
                ? "could not read netty-socketio's Configuration.isRandomSession(); unless it is true,"
                : "netty-socketio's Configuration.isRandomSession() is false (its default):";
        log.warn("{} a client chooses its own session id (the 'io' header or cookie) and so can open another "
                + "client's session in {}; call config.setRandomSession(true)", state, factory);
    }

    /** The server's {@code isRandomSession()}, or null when it cannot be read. */
    private static Boolean randomSession(AuthorizeHandler handler) {
        try {
            Field field = AuthorizeHandler.class.getDeclaredField("configuration");
            field.setAccessible(true);
            Object configuration = field.get(handler);
            return configuration instanceof Configuration ? ((Configuration) configuration).isRandomSession() : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
