package io.sessionstore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;

/**
 * Loads the JNI library: from {@code -Dsessionstore.library.path=/path/to/lib} when set (a
 * custom build), else from the copy inside the jar ({@code /native/<os>-<arch>/<file>}),
 * extracted to a temporary file. The user never sets {@code java.library.path}.
 */
final class NativeLibrary {
    static final String PATH_PROPERTY = "sessionstore.library.path";
    private static boolean loaded;

    private NativeLibrary() {}

    static synchronized void load() {
        if (loaded) {
            return;
        }
        String override = System.getProperty(PATH_PROPERTY);
        if (override != null && !override.isEmpty()) {
            System.load(Paths.get(override).toAbsolutePath().toString());
        } else {
            loadFromJar();
        }
        loaded = true;
    }

    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (os.contains("linux")) {
            os = "linux";
        } else if (os.contains("mac") || os.contains("darwin")) {
            os = "macos";
        } else if (os.contains("windows")) {
            os = "windows";
        }
        if (arch.equals("amd64") || arch.equals("x86_64")) {
            arch = "x86_64";
        } else if (arch.equals("arm64") || arch.equals("aarch64")) {
            arch = "aarch64";
        }
        return os + "-" + arch;
    }

    private static void loadFromJar() {
        String file = System.mapLibraryName("sessionstore_jni");
        String resource = "/native/" + platform() + "/" + file;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("sessionstore: this jar has no native library for "
                        + platform() + " (" + resource + "); build bindings/java/native with cargo "
                        + "and pass -D" + PATH_PROPERTY + "=/path/to/" + file);
            }
            Path dir = Files.createTempDirectory("sessionstore-jni");
            Path lib = dir.resolve(file);
            Files.copy(in, lib);
            System.load(lib.toAbsolutePath().toString());
            if (platform().startsWith("windows")) {
                // A loaded DLL cannot be deleted; the JVM tries again at exit.
                lib.toFile().deleteOnExit();
                dir.toFile().deleteOnExit();
            } else {
                // The loaded library stays mapped: the file is not needed any more.
                Files.deleteIfExists(lib);
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            UnsatisfiedLinkError error = new UnsatisfiedLinkError(
                    "sessionstore: cannot extract the native library: " + e);
            error.initCause(e);
            throw error;
        }
    }
}
