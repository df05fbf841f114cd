package org.proxid.hadoop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.authorize.AuthorizationException;
import org.apache.hadoop.security.authorize.ProxyUsers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.proxid.Decision;
import org.proxid.Proxid;
import org.proxid.ProxidException;
import org.proxid.TestSupport;

/**
 * Hadoop's ProxyUsers, configured with ProxidImpersonationProvider, allows and denies
 * exactly as `proxid authorize` does, on a table built from the host's own accounts.
 */
class ProxidImpersonationProviderTest {
    @AfterAll
    static void restoreHadoopDefault() {
        ProxyUsers.refreshSuperUserGroupsConfiguration(new Configuration(false));
    }

    /** A case: may `proxy` act as `user` from `host`? */
    private static final class Case {
        final String proxy;
        final String user;
        final String host;

        Case(String proxy, String user, String host) {
            this.proxy = proxy;
            this.user = user;
            this.host = host;
        }

        @Override
        public String toString() {
            return proxy + " as " + user + " from " + host;
        }
    }

    private static String primaryGroup(String user) {
        TestSupport.Result r = TestSupport.run("id", "-gn", user);
        assertEquals(0, r.status, "id -gn " + user);
        return r.out.trim();
    }

    private static String quoted(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    @Test
    void hadoopAuthorizeAgreesWithTheCli() throws Exception {
        List<String> users = new ArrayList<>();
        for (TestSupport.Account a : TestSupport.localAccounts()) {
            if (a.uid != 0) {
                users.add(a.name);
            }
        }
        assertTrue(users.size() >= 3, "need three non-root local accounts, have " + users);
        String proxy = users.get(0);
        String byGroup = users.get(1);
        String byName = users.get(2);
        String group = primaryGroup(byGroup);
        String unknown = TestSupport.unknownUser();

        String conf = TestSupport.writeConfig("impersonation.conf", String.join("\n",
                "[impersonation]",
                "protected_users = [\"root\"]",
                "[[impersonation.proxy]]",
                "user = " + quoted(proxy),
                "hosts = [\"127.0.0.1\", \"10.0.0.0/8\"]",
                "groups = [" + quoted(group) + "]",
                "users = [" + quoted(byName) + "]",
                "")).toString();

        Case[] cases = {
            new Case(proxy, byGroup, "127.0.0.1"), // by group, listed host
            new Case(proxy, byName, "10.1.2.3"), // by name, inside the CIDR
            new Case(proxy, byGroup, "192.168.1.1"), // host not listed
            new Case(proxy, byName, "11.0.0.1"), // just outside the CIDR
            new Case(proxy, "root", "127.0.0.1"), // protected
            new Case(proxy, proxy, "127.0.0.1"), // self, with no rule for it
            new Case(proxy, unknown, "127.0.0.1"), // no such user
            new Case(byGroup, byName, "127.0.0.1"), // no rule for this proxy
            new Case(unknown, byName, "127.0.0.1"), // no such proxy
            new Case(proxy, byGroup, "::1"), // IPv6 client, IPv4 rules
            new Case(proxy, byGroup, "10.255.255.255"), // broadcast address is in the block
        };

        Configuration hadoop = new Configuration(false);
        hadoop.set("hadoop.security.impersonation.provider.class",
                ProxidImpersonationProvider.class.getName());
        hadoop.set(ProxidHolder.CONFIG_KEY, conf);
        ProxyUsers.refreshSuperUserGroupsConfiguration(hadoop);

        int allowed = 0;
        int cliErrors = 0;
        try (Proxid proxid = Proxid.open(conf)) {
            for (Case c : cases) {
                TestSupport.Result cli = TestSupport.run(TestSupport.cli(), "--config", conf,
                        "authorize", "--proxy", c.proxy, "--user", c.user, "--host", c.host);
                boolean cliAllows = cli.status == 0;
                cliErrors += cli.status == 2 ? 1 : 0;

                UserGroupInformation real = UserGroupInformation.createRemoteUser(c.proxy);
                UserGroupInformation ugi = UserGroupInformation.createProxyUser(c.user, real);
                boolean hadoopAllows;
                try {
                    ProxyUsers.authorize(ugi, c.host);
                    hadoopAllows = true;
                } catch (AuthorizationException e) {
                    hadoopAllows = false;
                }
                assertEquals(cliAllows, hadoopAllows,
                        c + " (cli exit " + cli.status + ": " + cli.err.trim() + ")");

                // The Java API gives the same answer as well.
                boolean apiAllows;
                try {
                    apiAllows = proxid.authorize(c.proxy, c.user, c.host).verdict()
                            == Decision.Verdict.ALLOWED;
                } catch (ProxidException e) {
                    apiAllows = false;
                }
                assertEquals(cliAllows, apiAllows, c + " through Proxid.authorize");
                allowed += cliAllows ? 1 : 0;
            }
        }
        // Says in the log whether the table exercised real decisions or only refusals.
        System.out.println("impersonation table: " + cases.length + " cases, " + allowed
                + " allowed, " + cliErrors + " errors from `proxid authorize`");
    }

    @Test
    void aCallerThatIsNotAProxyIsNotAsked() throws Exception {
        Configuration hadoop = new Configuration(false);
        hadoop.set("hadoop.security.impersonation.provider.class",
                ProxidImpersonationProvider.class.getName());
        hadoop.set(ProxidHolder.CONFIG_KEY, "/nonexistent/proxid.conf");
        ProxyUsers.refreshSuperUserGroupsConfiguration(hadoop);
        // No real user: nothing is impersonated, so even a broken proxid.conf is not read.
        ProxyUsers.authorize(UserGroupInformation.createRemoteUser("root"), "127.0.0.1");
        // A proxy request with a broken proxid.conf fails closed.
        UserGroupInformation ugi = UserGroupInformation.createProxyUser("root",
                UserGroupInformation.createRemoteUser("root"));
        try {
            ProxyUsers.authorize(ugi, "127.0.0.1");
            throw new AssertionError("allowed with a broken configuration");
        } catch (AuthorizationException expected) {
            assertTrue(expected.getMessage().contains("proxid"), expected.getMessage());
        }
    }
}
