/**
 * sessionstore for netty-socketio 2.0: {@link io.sessionstore.netty.SessionStoreFactory}, a
 * {@code StoreFactory} whose per-client stores live in sessionstore (memory or Redis), readable
 * by other nodes and other languages, and destroyed after the application's disconnect
 * listeners, so nothing is left behind.
 */
package io.sessionstore.netty;
