package io.sessionstore.netty;

import java.io.IOException;

/**
 * A test server in a process of its own, for {@link KilledServerTest}: starts a
 * {@link TestServer} on exactly the url given, prints {@code port N}, and runs until it is
 * killed or its standard input closes (so it never outlives the test JVM).
 */
public final class ServerMain {
    private ServerMain() {}

    /**
     * Runs the server.
     *
     * @param args the url
     * @throws IOException if standard input fails
     */
    public static void main(String[] args) throws IOException {
        TestServer server = TestServer.startExact(args[0], config -> { }, null);
        System.out.println("port " + server.port);
        System.out.flush();
        while (System.in.read() >= 0) {
            // Nothing is sent; end of input means the parent is gone.
        }
        System.exit(0);
    }
}
