package io.sessionstore.netty;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The raw keys of a Redis url, read over a plain socket (RESP), to see what the backend holds
 * without a sessionstore factory in between: standalone (its db), the master a Sentinel names,
 * or every node of a Cluster url.
 */
final class RawRedis {
    private static final int TIMEOUT_MS = 5000;

    private RawRedis() {}

    /** Every key of the url's backend under a sessionstore prefix ({@code prefix:*}). */
    static Set<String> keys(String url, String prefix) throws IOException {
        return keysMatching(url, prefix + ":*");
    }

    /** Every key of the url's backend matching a {@code KEYS} pattern. */
    static Set<String> keysMatching(String url, String pattern) throws IOException {
        Set<String> keys = new TreeSet<>();
        String rest = url.substring(url.indexOf("://") + 3);
        int query = rest.indexOf('?');
        if (query >= 0) {
            rest = rest.substring(0, query);
        }
        String[] parts = rest.split("/");
        String[] hosts = parts[0].split(",");
        if (url.startsWith("redis+cluster://")) {
            for (String host : hosts) {
                keys.addAll(strings(call(host, -1, "KEYS", pattern)));
            }
        } else if (url.startsWith("redis+sentinel://")) {
            List<String> master = strings(call(hosts[0], -1, "SENTINEL", "get-master-addr-by-name", parts[1]));
            int db = parts.length > 2 ? Integer.parseInt(parts[2]) : 0;
            keys.addAll(strings(call(master.get(0) + ":" + master.get(1), db, "KEYS", pattern)));
        } else if (url.startsWith("redis://")) {
            int db = parts.length > 1 && !parts[1].isEmpty() ? Integer.parseInt(parts[1]) : 0;
            keys.addAll(strings(call(hosts[0], db, "KEYS", pattern)));
        } else {
            throw new IllegalArgumentException("no raw key listing for " + url);
        }
        return keys;
    }

    @SuppressWarnings("unchecked")
    private static List<String> strings(Object reply) {
        return (List<String>) reply;
    }

    /** One command on {@code host:port} (after {@code SELECT db} when db >= 0). */
    private static Object call(String host, int db, String... command) throws IOException {
        int colon = host.lastIndexOf(':');
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host.substring(0, colon), Integer.parseInt(host.substring(colon + 1))),
                    TIMEOUT_MS);
            socket.setSoTimeout(TIMEOUT_MS);
            OutputStream out = socket.getOutputStream();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            if (db >= 0) {
                write(out, "SELECT", Integer.toString(db));
                read(in);
            }
            write(out, command);
            return read(in);
        }
    }

    private static void write(OutputStream out, String... args) throws IOException {
        StringBuilder b = new StringBuilder("*").append(args.length).append("\r\n");
        for (String arg : args) {
            b.append('$').append(arg.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(arg).append("\r\n");
        }
        out.write(b.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static Object read(InputStream in) throws IOException {
        int type = in.read();
        String line = line(in);
        switch (type) {
            case '+':
            case ':':
                return line;
            case '-':
                throw new IOException("redis: " + line);
            case '$': {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    return null;
                }
                byte[] data = in.readNBytes(n + 2);
                return new String(data, 0, n, StandardCharsets.ISO_8859_1);
            }
            case '*': {
                int n = Integer.parseInt(line);
                List<Object> items = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    items.add(read(in));
                }
                return items;
            }
            default:
                throw new IOException("unexpected reply type " + type);
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != '\r') {
            if (c < 0) {
                throw new IOException("connection closed");
            }
            b.append((char) c);
        }
        in.read(); // '\n'
        return b.toString();
    }
}
