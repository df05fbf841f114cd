package org.proxid;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;

/**
 * The libproxid.so carried inside the jar ({@code native/<os>-<arch>/libproxid.so},
 * with its SHA-256 recorded at build time beside it), loaded the way sqlite-jdbc and
 * zstd-jni load theirs: copied to a new owner-only (0700) directory under
 * {@code java.io.tmpdir} as an owner-only (0600) file created exclusively, checked
 * against the recorded SHA-256 as read back from disk (the bytes that get loaded),
 * {@code System.load}ed, then deleted (the mapping stays valid).
 */
final class EmbeddedLibrary {
    private EmbeddedLibrary() {}

    /** The jar directory for this platform, or null when the jar carries none for it. */
    static String platformDirectory() {
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (os.startsWith("linux") && (arch.equals("amd64") || arch.equals("x86_64"))) {
            return "native/linux-x86_64/";
        }
        return null;
    }

    /** Loads the embedded library; returns where from. Throws when it cannot. */
    static String load() {
        String dir = platformDirectory();
        if (dir == null) {
            throw new UnsatisfiedLinkError("proxid: libproxid.so was not found on "
                    + "java.library.path and this jar carries none for "
                    + System.getProperty("os.name") + "-" + System.getProperty("os.arch")
                    + "; set -D" + Native.LIBRARY_PATH_PROPERTY + "=/path/to/libproxid.so");
        }
        String library = dir + System.mapLibraryName("proxid");
        String expected = recordedSha256(library + ".sha256");
        Path tmp = null;
        Path file = null;
        try (InputStream in = resource(library)) {
            tmp = Files.createTempDirectory("proxid-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            file = tmp.resolve(System.mapLibraryName("proxid"));
            try (OutputStream out = Channels.newOutputStream(Files.newByteChannel(file,
                    EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rw-------"))))) {
                byte[] chunk = new byte[1 << 16];
                for (int n; (n = in.read(chunk)) > 0; ) {
                    out.write(chunk, 0, n);
                }
            }
            String actual = sha256(file);
            if (!actual.equals(expected)) {
                throw new UnsatisfiedLinkError("proxid: refusing to load the libproxid.so "
                        + "embedded in this jar: its SHA-256 is " + actual + " but the jar "
                        + "records " + expected + " (the jar is damaged or was altered)");
            }
            System.load(file.toAbsolutePath().toString());
            return "jar:" + library;
        } catch (IOException e) {
            UnsatisfiedLinkError error = new UnsatisfiedLinkError("proxid: cannot extract the "
                    + "libproxid.so embedded in this jar to " + (tmp == null
                            ? System.getProperty("java.io.tmpdir") : tmp) + ": " + e);
            error.initCause(e);
            throw error;
        } finally {
            deleteQuietly(file);
            deleteQuietly(tmp);
        }
    }

    private static InputStream resource(String name) {
        InputStream in = EmbeddedLibrary.class.getClassLoader() == null
                ? ClassLoader.getSystemResourceAsStream(name)
                : EmbeddedLibrary.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new UnsatisfiedLinkError("proxid: libproxid.so was not found on "
                    + "java.library.path and this jar does not carry " + name
                    + "; set -D" + Native.LIBRARY_PATH_PROPERTY + "=/path/to/libproxid.so");
        }
        return in;
    }

    private static String recordedSha256(String name) {
        try (InputStream in = resource(name)) {
            byte[] buf = new byte[128];
            int len = 0;
            for (int n; len < buf.length && (n = in.read(buf, len, buf.length - len)) > 0; ) {
                len += n;
            }
            String text = new String(buf, 0, len, StandardCharsets.US_ASCII).trim();
            String hex = text.split("\\s+", 2)[0].toLowerCase(java.util.Locale.ROOT);
            if (!hex.matches("[0-9a-f]{64}")) {
                throw new UnsatisfiedLinkError("proxid: " + name + " in this jar is not a SHA-256");
            }
            return hex;
        } catch (IOException e) {
            throw new UnsatisfiedLinkError("proxid: cannot read " + name + " from this jar: " + e);
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IOException("no SHA-256 in this JVM", e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] chunk = new byte[1 << 16];
            for (int n; (n = in.read(chunk)) > 0; ) {
                digest.update(chunk, 0, n);
            }
        }
        StringBuilder hex = new StringBuilder(64);
        for (byte b : digest.digest()) {
            hex.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return hex.toString();
    }

    private static void deleteQuietly(Path path) {
        if (path != null) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // A leftover private temp file is harmless; loading must not fail for it.
            }
        }
    }
}
