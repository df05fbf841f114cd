package org.proxid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Resolution through JNI agrees with the host's `getent` and `id` for every local user. */
class ResolveTest {
    private static Proxid proxid;

    @BeforeAll
    static void open() throws ProxidException {
        proxid = Proxid.open(TestSupport.writeConfigUnchecked("resolve.conf", ""));
    }

    @AfterAll
    static void close() {
        proxid.close();
    }

    /** `id -G` / `id -Gn` for a user: primary first, as the kernel and proxid order them. */
    private static List<String> idField(String flag, String user) {
        TestSupport.Result r = TestSupport.run("id", flag, user);
        assertEquals(0, r.status, "id " + flag + " " + user);
        return Arrays.asList(r.out.trim().split(" "));
    }

    @Test
    void everyLocalUserMatchesGetentAndId() throws ProxidException {
        List<TestSupport.Account> accounts = TestSupport.localAccounts();
        assertTrue(accounts.size() > 0, "getent passwd lists nobody");
        for (TestSupport.Account a : accounts) {
            Identity id = proxid.resolve(a.name);
            assertEquals(a.name, id.name());
            assertEquals(a.uid, id.uid(), a.name);
            assertEquals(a.gid, id.gid(), a.name);
            assertEquals(a.home, id.home(), a.name);
            assertEquals(a.shell, id.shell(), a.name);
            assertEquals("local", id.source(), a.name);
            assertEquals(a.gid, id.groups().get(0).gid(), a.name + ": primary group first");

            List<String> gids = new ArrayList<>();
            for (long gid : id.gids()) {
                gids.add(Long.toString(gid));
            }
            List<String> idGids = idField("-G", a.name);
            assertEquals(idGids.get(0), gids.get(0), a.name);
            assertEquals(new LinkedHashSet<>(idGids), new LinkedHashSet<>(gids), a.name);
            Set<String> idNames = new LinkedHashSet<>(idField("-Gn", a.name));
            assertEquals(idNames, new LinkedHashSet<>(id.groupNames()), a.name);
            assertEquals(id.groupNames(), proxid.groups(a.name), a.name);

            // By UID: several names may share one UID, so compare the numbers only.
            Identity byUid = proxid.resolveUid(a.uid);
            assertEquals(a.uid, byUid.uid(), a.name);
        }
    }

    @Test
    void identityIsAnImmutableValue() throws ProxidException {
        Identity root = proxid.resolve("root");
        assertEquals(root, proxid.resolve("root"));
        assertEquals(root.hashCode(), proxid.resolve("root").hashCode());
        assertEquals(0, root.uid());
        assertNotNull(root.toString());
        try {
            root.groups().clear();
            throw new AssertionError("groups() must be unmodifiable");
        } catch (UnsupportedOperationException expected) {
            // immutable, as documented
        }
    }

    /** Every field of a Decision crosses the boundary, whatever the policy decides. */
    @Test
    void decisionsCrossTheBoundaryWithEveryField() throws ProxidException {
        long h = Native.open(TestSupport.writeConfigUnchecked("resolve.conf", ""));
        try {
            for (TestSupport.Account a : TestSupport.localAccounts()) {
                Decision d = Native.testingDecision(h, a.name);
                assertEquals(Decision.Verdict.ALLOWED, d.verdict());
                assertTrue(d.allowed());
                assertEquals("test-proxy", d.proxy());
                assertEquals(a.name, d.user());
                assertEquals("192.0.2.1", d.host());
                assertEquals(a.name, d.effectiveUser());
                assertEquals(proxid.resolve(a.name), d.effective());
                assertEquals("test rule", d.rule());
                assertEquals("test decision", d.reason());
            }
        } finally {
            Native.free(h);
        }
    }

    @Test
    void nativeLibraryIsTheCrateVersion() {
        assertEquals(System.getProperty("proxid.test.version"), Proxid.nativeVersion());
    }
}
