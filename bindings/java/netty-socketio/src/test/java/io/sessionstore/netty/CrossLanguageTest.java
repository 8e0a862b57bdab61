package io.sessionstore.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A Python process (the sessionstore wheel) reads, by its UUID, the session a Java client wrote
 * through the netty-socketio server, every value with its Python type
 * ({@code src/test/resources/read_session.py}), and what it writes back the server's listener
 * reads with the core's Java types. Runs on the first Redis url when
 * {@code SESSIONSTORE_TEST_PYTHON} names a Python with the wheel ({@code make test-python}
 * installs it into the repo's {@code .venv}); skipped otherwise.
 */
@ExtendWith(Servers.class)
class CrossLanguageTest {
    private static final long PYTHON_TIMEOUT_SECONDS = 60;

    @Test
    void pythonReadsWhatAJavaClientWrote() throws Exception {
        String python = System.getenv("SESSIONSTORE_TEST_PYTHON");
        assumeTrue(python != null && !python.isBlank(),
                "SESSIONSTORE_TEST_PYTHON is not set (make test-python installs the wheel into .venv)");
        String url = Backends.redisUrls().findFirst().orElse(null);
        assumeTrue(url != null, "SESSIONSTORE_TEST_URLS has no Redis url");
        assertTrue(Files.isExecutable(Path.of(python)), "SESSIONSTORE_TEST_PYTHON=" + python + " is not executable");

        TestServer node = Servers.main(url);
        String sid;
        try (TestClient client = TestClient.connect(node.port, TestClient.WEBSOCKET, "user=7")) {
            sid = client.sessionId();
            client.set("score", 3);
            client.set("ratio", 0.5);
            client.set("ok", true);
            client.set("profile", new JSONObject().put("tags",
                    new JSONArray().put(1).put("two").put(JSONObject.NULL).put(new JSONObject().put("deep", true))));
            runPython(python, node.url, sid);
            Object[] reply = client.call("get", "fromPython");
            assertEquals("java.util.LinkedHashMap", reply[1]);
            JSONObject fromPython = (JSONObject) reply[0];
            assertEquals(1, fromPython.getInt("n"));
            assertEquals(1L << 40, fromPython.getJSONArray("list").getLong(0));
            assertEquals("x", fromPython.getJSONArray("list").getString(1));
        }
        Eventually.await("session " + sid + " destroyed", () -> node.gone(sid));
    }

    private static void runPython(String python, String url, String sid) throws Exception {
        Path script = Files.createTempFile("read_session", ".py");
        Path output = Files.createTempFile("read_session", ".out");
        try {
            try (InputStream in = CrossLanguageTest.class.getResourceAsStream("/read_session.py")) {
                Files.copy(Objects.requireNonNull(in, "read_session.py"), script, StandardCopyOption.REPLACE_EXISTING);
            }
            // The output goes to a file, read once the process ended: the wait stays bounded
            // even if the process hangs with its output open.
            Process p = new ProcessBuilder(python, script.toString(), url, sid)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            p.getOutputStream().close();
            if (!p.waitFor(PYTHON_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("python did not finish in " + PYTHON_TIMEOUT_SECONDS + " s");
            }
            String text = Files.readString(output).strip();
            assertEquals(0, p.exitValue(), () -> "python failed:\n" + text);
            assertTrue(text.endsWith("ok"), () -> "python said:\n" + text);
        } finally {
            Files.deleteIfExists(script);
            Files.deleteIfExists(output);
        }
    }
}
