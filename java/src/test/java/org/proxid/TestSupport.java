package org.proxid;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the tests compare against: the host's own accounts and proxid's own CLI. */
public final class TestSupport {
    private TestSupport() {}

    /** The exit status, standard output and standard error of a finished command. */
    public static final class Result {
        public final int status;
        public final String out;
        public final String err;

        Result(int status, String out, String err) {
            this.status = status;
            this.out = out;
            this.err = err;
        }
    }

    /** Runs a command to completion. */
    public static Result run(String... command) {
        try {
            Path err = Files.createTempFile("proxid-test", ".stderr");
            try {
                Process p = new ProcessBuilder(command)
                        .redirectError(err.toFile())
                        .start();
                p.getOutputStream().close();
                String out = readAll(p.getInputStream());
                int status = p.waitFor();
                return new Result(status, out,
                        new String(Files.readAllBytes(err), StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(err);
            }
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("cannot run " + Arrays.toString(command), e);
        }
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        for (int n; (n = in.read(chunk)) > 0; ) {
            buf.write(chunk, 0, n);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    /** The proxid CLI built with the library under test. */
    public static String cli() {
        String cli = System.getProperty("proxid.test.cli");
        if (cli == null) {
            throw new AssertionError("system property proxid.test.cli is not set");
        }
        return cli;
    }

    /** One `getent passwd` line. */
    public static final class Account {
        public final String name;
        public final long uid;
        public final long gid;
        public final String home;
        public final String shell;

        Account(String[] f) {
            name = f[0];
            uid = Long.parseLong(f[2]);
            gid = Long.parseLong(f[3]);
            home = f[5];
            shell = f.length > 6 ? f[6] : "";
        }
    }

    /** Every account `getent passwd` lists, first entry per name. */
    public static List<Account> localAccounts() {
        Result r = run("getent", "passwd");
        if (r.status != 0) {
            throw new AssertionError("getent passwd failed: " + r.status);
        }
        Map<String, Account> byName = new LinkedHashMap<>();
        for (String line : r.out.split("\n")) {
            String[] f = line.split(":", -1);
            if (f.length >= 6 && !f[0].isEmpty()) {
                byName.putIfAbsent(f[0], new Account(f));
            }
        }
        return new ArrayList<>(byName.values());
    }

    /** A user name no source knows (checked with getent). */
    public static String unknownUser() {
        for (int i = 0; ; i++) {
            String name = "proxid-nobody-" + i;
            if (run("getent", "passwd", name).status == 2) {
                return name;
            }
        }
    }

    /** {@link #writeConfig}, returning the path as a string, for {@code @BeforeAll}. */
    public static String writeConfigUnchecked(String name, String toml) {
        try {
            return writeConfig(name, toml).toString();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** A fresh proxid.conf under the test temp dir. */
    public static Path writeConfig(String name, String toml) throws IOException {
        Path dir = Paths.get(System.getProperty("java.io.tmpdir"));
        Files.createDirectories(dir);
        Path file = dir.resolve(name);
        Files.write(file, toml.getBytes(StandardCharsets.UTF_8));
        return file;
    }
}
