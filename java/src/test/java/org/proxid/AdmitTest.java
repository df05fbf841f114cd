package org.proxid;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Proxid#admit}: every combination of what the client sends for the proxy and
 * the user (name only, matching IDs, wrong IDs) against servers with server_side off,
 * on and require_server_side, with two of the host's own accounts.
 */
class AdmitTest {
    enum Sent { NAME, IDS, WRONG }

    enum Server { PLAIN, LENIENT, STRICT }

    private static final List<Proxid> servers = new ArrayList<>();
    private static Identity proxy;
    private static Identity user;

    /** Two accounts other than root and not in root's group (those are protected). */
    private static List<String> twoAccounts() {
        List<String> names = new ArrayList<>();
        for (TestSupport.Account a : TestSupport.localAccounts()) {
            if (a.uid == 0 || names.contains(a.name)) {
                continue;
            }
            TestSupport.Result g = TestSupport.run("id", "-G", a.name);
            if (Arrays.asList(g.out.trim().split(" ")).contains("0")) {
                continue;
            }
            names.add(a.name);
            if (names.size() == 2) {
                return names;
            }
        }
        throw new AssertionError("two non-root accounts in getent passwd");
    }

    @BeforeAll
    static void open() throws ProxidException {
        List<String> names = twoAccounts();
        String rule = "[[impersonation.proxy]]\nuser = \"" + names.get(0) + "\"\nhosts = [\"*\"]\n"
                + "users = [\"" + names.get(1) + "\"]\n";
        String[] lines = {"server_side = false", "server_side = true", "require_server_side = true"};
        for (int i = 0; i < lines.length; i++) {
            servers.add(Proxid.open(TestSupport.writeConfigUnchecked(
                    "admit-" + i + ".conf", "[resolution]\n" + lines[i] + "\n" + rule)));
        }
        proxy = servers.get(0).resolve(names.get(0));
        user = servers.get(0).resolve(names.get(1));
    }

    @AfterAll
    static void close() {
        servers.forEach(Proxid::close);
    }

    private static Assertion sent(Identity id, Sent how) {
        switch (how) {
            case NAME:
                return Assertion.nameOnly(id.name());
            case IDS:
                return Assertion.of(id);
            default:
                long[] gids = Arrays.copyOf(id.gids(), id.gids().length + 1);
                gids[gids.length - 1] = 4000000;
                return Assertion.resolved(id.name(), id.uid() + 1, gids);
        }
    }

    private static boolean mismatched(Server server, Sent s) {
        return server == Server.PLAIN && s == Sent.NAME || server == Server.STRICT && s != Sent.NAME;
    }

    @Test
    void everyModeCombination() throws ProxidException {
        int runs = 0;
        for (Server server : Server.values()) {
            Proxid p = servers.get(server.ordinal());
            for (Sent ps : Sent.values()) {
                for (Sent us : Sent.values()) {
                    String c = server + " proxy " + ps + " user " + us;
                    boolean mode = mismatched(server, ps) || mismatched(server, us);
                    boolean ids = ps == Sent.WRONG || us == Sent.WRONG;
                    try {
                        Decision d = p.admit(sent(proxy, ps), sent(user, us), "10.0.0.7");
                        assertTrue(!mode && !ids, c + ": " + d);
                        assertEquals(Decision.Verdict.ALLOWED, d.verdict(), c);
                        assertEquals(user.name(), d.effectiveUser(), c);
                        assertEquals(user, d.effective(), c + ": the server's own resolution");
                    } catch (ModeMismatchException e) {
                        assertTrue(mode, c + ": " + e.getMessage());
                        assertEquals("mode_mismatch", e.kind());
                        assertEquals(mismatched(server, ps),
                                e.getMessage().contains("proxy \"" + proxy.name() + "\""), c);
                        assertEquals(mismatched(server, us),
                                e.getMessage().contains("user \"" + user.name() + "\""), c);
                    } catch (IdentityMismatchException e) {
                        assertTrue(!mode && ids, c + ": " + e.getMessage());
                        assertEquals(ps == Sent.WRONG, e.getMessage().contains("proxy " + proxy.name()
                                + ": uid: client " + (proxy.uid() + 1) + ", server " + proxy.uid()), c);
                        assertEquals(us == Sent.WRONG, e.getMessage().contains("user " + user.name()
                                + ": uid: client " + (user.uid() + 1) + ", server " + user.uid()), c);
                    }
                    runs++;
                }
            }
        }
        assertEquals(27, runs);
    }

    @Test
    void jsonRequestsAndPolicyDecisions() throws ProxidException {
        Proxid lenient = servers.get(Server.LENIENT.ordinal());
        Decision d = lenient.admit("{\"proxy\":{\"name\":\"" + proxy.name() + "\"},\"user\":{\"name\":\""
                + user.name() + "\"},\"host\":\"::1\"}");
        assertEquals(Decision.Verdict.ALLOWED, d.verdict());
        // The other way round no rule allows: a decision, not an error.
        d = lenient.admit(Assertion.nameOnly(user.name()), Assertion.nameOnly(proxy.name()), "::1");
        assertEquals(Decision.Verdict.DENIED, d.verdict());
        assertEquals("no_rule", d.reason());
        InvalidArgumentException bad = assertThrows(InvalidArgumentException.class,
                () -> lenient.admit("{\"proxy\":{\"name\":\"a\"},\"user\":{\"name\":\"b\"},\"host\":\"::1\",\"x\":1}"));
        assertEquals("invalid_argument", bad.kind());
        NotFoundException nf = assertThrows(NotFoundException.class, () -> lenient.admit(
                Assertion.nameOnly(proxy.name()), Assertion.nameOnly(TestSupport.unknownUser()), "::1"));
        assertTrue(nf.getMessage().contains("user \""), nf.getMessage());
    }

    @Test
    void badArguments() {
        Proxid p = servers.get(0);
        Assertion a = Assertion.of(proxy);
        assertThrows(NullPointerException.class, () -> p.admit(null, a, "::1"));
        assertThrows(NullPointerException.class, () -> p.admit(a, null, "::1"));
        assertThrows(NullPointerException.class, () -> p.admit(a, a, null));
        assertThrows(NullPointerException.class, () -> p.admit((String) null));
        assertThrows(NullPointerException.class, () -> Assertion.nameOnly(null));
        assertThrows(IllegalArgumentException.class, () -> Assertion.resolved("a", -1, 1));
        assertThrows(IllegalArgumentException.class, () -> Assertion.resolved("a", 1, 1L << 32));
        assertThrows(IllegalArgumentException.class, () -> Assertion.resolved("a", 1));
        assertThrows(InvalidNameException.class, () -> p.admit(Assertion.nameOnly(""), a, "::1"));
        assertThrows(InvalidArgumentException.class, () -> p.admit(a, a, "*"));
        long[] gids = {5, 6};
        Assertion r = Assertion.resolved("x", 7, gids);
        gids[0] = 99;
        assertArrayEquals(new long[] {5, 6}, r.gids(), "defensive copy");
        assertEquals(Assertion.resolved("x", 7, 5, 6), r);
        try {
            p.admit(Assertion.nameOnly(proxy.name()), a, "::1");
            fail("name only to a server without server_side");
        } catch (ProxidException e) {
            assertEquals("mode_mismatch", e.kind());
        }
    }
}
