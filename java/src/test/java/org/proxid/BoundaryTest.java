package org.proxid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The JNI boundary: every failure arrives as the right Java exception, null and hostile
 * arguments throw, and a Rust panic is an exception, not a dead JVM.
 */
class BoundaryTest {
    private static Proxid proxid;
    /** A handle used straight through {@link Native}, to test the Rust side's own checks. */
    private static long raw;

    @BeforeAll
    static void open() throws ProxidException {
        String conf = TestSupport.writeConfigUnchecked("boundary.conf", "");
        proxid = Proxid.open(conf);
        raw = Native.open(conf);
    }

    @AfterAll
    static void close() {
        proxid.close();
        Native.free(raw);
    }

    private static String repeat(char c, int n) {
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            b.append(c);
        }
        return b.toString();
    }

    /** Names that must be rejected before any lookup, and names no account has. */
    @Test
    void hostileNamesThrowTheirKind() {
        String unknown = TestSupport.unknownUser();
        Object[][] cases = {
            {"", InvalidNameException.class},
            {"a\u0000b", InvalidNameException.class},
            {"\u0000", InvalidNameException.class},
            {repeat('a', 257), InvalidNameException.class},
            {repeat('x', 10_000), InvalidNameException.class},
            {"ali\uD800ce", InvalidNameException.class}, // lone surrogate: no lossy decoding
            {"\uDC00", InvalidNameException.class},
            {unknown, NotFoundException.class},
            {"*", NotFoundException.class},
            {")(", NotFoundException.class},
            {"*)(uid=*", NotFoundException.class},
            {"\\", NotFoundException.class},
            {"../../etc/passwd", NotFoundException.class},
            {"root ", NotFoundException.class},
            {"%s%n%n", NotFoundException.class},
            {"r\u00f6\u00f6t\uD83D\uDE00", NotFoundException.class}, // valid supplementary char
        };
        for (Object[] c : cases) {
            String name = (String) c[0];
            @SuppressWarnings("unchecked")
            Class<? extends ProxidException> expected = (Class<? extends ProxidException>) c[1];
            String shown = name.length() > 40 ? name.substring(0, 40) + "..." : name;
            ProxidException e = assertThrows(expected, () -> proxid.resolve(name), shown);
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), shown);
        }
        // The same names through the other entry points throw, never crash.
        for (Object[] c : cases) {
            String name = (String) c[0];
            assertThrows(ProxidException.class, () -> proxid.groups(name));
            assertNotAllowed("root", name, "127.0.0.1");
            assertNotAllowed(name, "root", "127.0.0.1");
            assertNotAllowed(name, name, name);
            assertThrowsOrReturns(() -> proxid.shortName(name));
            assertThrowsOrReturns(() -> proxid.authorize("root", "root", name));
            assertThrowsOrReturns(() -> proxid.invalidate(name));
        }
    }

    /** No rule allows anything here: a refusal is a denial or a ProxidException. */
    private static void assertNotAllowed(String proxy, String user, String host) {
        try {
            Decision d = proxid.authorize(proxy, user, host);
            assertTrue(d.verdict() != Decision.Verdict.ALLOWED, d.toString());
        } catch (ProxidException refused) {
            // a clean refusal
        }
    }

    /** Either completes or throws a ProxidException; anything else is a bug. */
    private static void assertThrowsOrReturns(Executable call) {
        try {
            call.execute();
        } catch (ProxidException expected) {
            // a clean refusal
        } catch (Throwable t) {
            throw new AssertionError("unexpected " + t, t);
        }
    }

    @Test
    void uidsOutsideThirtyTwoBitsAreIllegalArguments() throws ProxidException {
        long[] bad = {-1, Long.MIN_VALUE, 1L << 32, Long.MAX_VALUE};
        for (long uid : bad) {
            assertThrows(IllegalArgumentException.class, () -> proxid.resolveUid(uid), "" + uid);
            // The native side checks too, for callers that skip the Java check.
            assertThrows(IllegalArgumentException.class, () -> Native.resolveUid(raw, uid),
                    "native " + uid);
        }
        assertEquals(0, proxid.resolveUid(0).uid());
    }

    @Test
    void nullArgumentsThrowNullPointerException() throws ProxidException {
        Executable[] api = {
            () -> proxid.resolve(null),
            () -> proxid.groups(null),
            () -> proxid.authorize(null, "root", "127.0.0.1"),
            () -> proxid.authorize("root", null, "127.0.0.1"),
            () -> proxid.authorize("root", "root", null),
            () -> proxid.shortName(null),
        };
        for (Executable call : api) {
            assertThrows(NullPointerException.class, call);
        }
        // Straight to the native methods: the Rust side rejects null on its own.
        long h = raw;
        Executable[] raw = {
            () -> Native.resolve(h, null),
            () -> Native.authorize(h, null, "root", "127.0.0.1"),
            () -> Native.authorize(h, "root", null, "127.0.0.1"),
            () -> Native.authorize(h, "root", "root", null),
            () -> Native.shortName(h, null),
        };
        for (Executable call : raw) {
            NullPointerException e = assertThrows(NullPointerException.class, call);
            assertTrue(e.getMessage().endsWith(" is null"), e.getMessage());
        }
        proxid.invalidate(null); // null is documented: the whole cache
        Native.invalidate(h, null);
    }

    @Test
    void handleZeroIsRejected() {
        Executable[] calls = {
            () -> Native.resolve(0, "root"),
            () -> Native.resolveUid(0, 0),
            () -> Native.authorize(0, "root", "root", "127.0.0.1"),
            () -> Native.shortName(0, "root"),
            () -> Native.invalidate(0, null),
        };
        for (Executable call : calls) {
            assertThrows(IllegalStateException.class, call);
        }
        Native.free(0); // a no-op, like free(NULL)
    }

    /** Every error kind maps to its own class, and kind() is the Rust kind word. */
    @Test
    void everyErrorKindHasItsException() {
        Object[][] table = {
            {"invalid_name", InvalidNameException.class},
            {"not_found", NotFoundException.class},
            {"unavailable", UnavailableException.class},
            {"timeout", TimeoutException.class},
            {"directory", DirectoryException.class},
            {"config", ConfigException.class},
            {"mode_mismatch", ModeMismatchException.class},
            {"identity_mismatch", IdentityMismatchException.class},
            {"invalid_argument", InvalidArgumentException.class},
            {"io", SystemException.class},
        };
        for (Object[] row : table) {
            String kind = (String) row[0];
            ProxidException e = assertThrows(ProxidException.class, () -> Native.testingError(kind));
            assertEquals(row[1], e.getClass(), kind);
            assertEquals(kind, e.kind());
            assertTrue(e.getMessage().contains(kind.equals("timeout") ? "timed out" : "test error"),
                    e.getMessage());
        }
        // A timeout is a kind of unavailability: one catch clause retries both.
        assertThrows(UnavailableException.class, () -> Native.testingError("timeout"));
        assertThrows(IllegalArgumentException.class, () -> Native.testingError("no-such-kind"));
    }

    @Test
    void badConfigurationIsConfigException() throws Exception {
        Path unknownKey = TestSupport.writeConfig("unknown-key.conf", "[resolution]\nmoed = \"client\"\n");
        Path badToml = TestSupport.writeConfig("bad-toml.conf", "[resolution\n");
        String[] paths = {unknownKey.toString(), badToml.toString(), "/nonexistent/proxid.conf"};
        for (String path : paths) {
            ConfigException e = assertThrows(ConfigException.class, () -> Proxid.open(path), path);
            assertEquals("config", e.kind());
        }
        assertThrows(ProxidException.class, () -> Proxid.open("bad\u0000path"));
        assertThrows(ProxidException.class, () -> Proxid.open("\uD800"));
    }

    @Test
    void panicBecomesAnExceptionAndTheLibraryStillWorks() throws ProxidException {
        for (int i = 0; i < 3; i++) {
            InternalException e = assertThrows(InternalException.class,
                    () -> Native.testingPanic("deliberate test panic " + 0));
            assertTrue(e.getMessage().contains("deliberate test panic"), e.getMessage());
            assertEquals("internal", e.kind());
        }
        assertThrows(InternalException.class, () -> Native.testingPanic(null));
        assertEquals("root", proxid.resolve("root").name());
    }

    /** Issue 11.19: a lone surrogate is shown as Java writes it, never as U+FFFD. */
    @Test
    void aLoneSurrogateIsShownEscapedInTheMessage() throws Exception {
        InvalidNameException name = assertThrows(InvalidNameException.class,
                () -> proxid.resolve("ali\uD800ce"));
        assertTrue(name.getMessage().contains("\"ali\\ud800ce\""), name.getMessage());
        assertTrue(name.getMessage().contains("lone surrogate"), name.getMessage());
        assertTrue(name.getMessage().indexOf('\uFFFD') < 0, name.getMessage());
        InvalidNameException low = assertThrows(InvalidNameException.class,
                () -> proxid.authorize("x\uDC00", "root", "127.0.0.1"));
        assertTrue(low.getMessage().contains("\"x\\udc00\""), low.getMessage());
        // A well-formed pair next to a lone one: only the lone one is escaped.
        InvalidArgumentException host = assertThrows(InvalidArgumentException.class,
                () -> proxid.authorize("root", "root", "\uD83D\uDE00\uD83D"));
        assertTrue(host.getMessage().contains("\"\uD83D\uDE00\\ud83d\""), host.getMessage());
        assertTrue(host.getMessage().indexOf('\uFFFD') < 0, host.getMessage());
    }
}
