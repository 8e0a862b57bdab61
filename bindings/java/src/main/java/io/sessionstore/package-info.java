/**
 * sessionstore for Java: per-session key-value stores for Socket.IO servers (socketio4j),
 * backed by one Rust core over JNI, in memory or on Redis, with values every host (C, Python,
 * Java) reads.
 *
 * <p>Start with {@link io.sessionstore.StoreFactory#open(String)}, then
 * {@link io.sessionstore.StoreFactory#createStore(java.util.UUID)} per client session. Errors
 * are the exceptions Java users already catch: {@code NullPointerException},
 * {@code IllegalArgumentException}, {@code IllegalStateException} (with
 * {@link io.sessionstore.StoreDestroyedException} and
 * {@link io.sessionstore.FactoryClosedException}), and
 * {@link io.sessionstore.StoreBackendException} (with
 * {@link io.sessionstore.StoreTimeoutException}) for the backend.
 */
package io.sessionstore;
