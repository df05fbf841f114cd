package org.proxid.hadoop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.authorize.AuthorizationException;
import org.apache.hadoop.security.authorize.DefaultImpersonationProvider;
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

    /** Allowed by ProxyUsers as configured last? */
    private static boolean hadoopAllows(String proxy, String user, String host) {
        UserGroupInformation ugi = UserGroupInformation.createProxyUser(user,
                UserGroupInformation.createRemoteUser(proxy));
        try {
            ProxyUsers.authorize(ugi, host);
            return true;
        } catch (AuthorizationException e) {
            return false;
        }
    }

    /**
     * Issue 11.17: with the rules only in the Hadoop Configuration (proxid.conf has none),
     * the provider allows and denies as Hadoop's DefaultImpersonationProvider does on the
     * same Configuration, for the default prefix and for a custom one; protected
     * identities still come from proxid.conf.
     */
    private void configurationRulesAgreeWithHadoop(String prefix) throws Exception {
        List<String> users = new ArrayList<>();
        for (TestSupport.Account a : TestSupport.localAccounts()) {
            if (a.uid != 0) {
                users.add(a.name);
            }
        }
        assertTrue(users.size() >= 4, "need four non-root local accounts, have " + users);
        String proxy = users.get(0);
        String byGroup = users.get(1);
        String byName = users.get(2);
        String other = users.get(3);
        String group = primaryGroup(byGroup);
        String otherProxy = users.get(1);
        String conf = TestSupport.writeConfig("configuration-rules.conf", String.join("\n",
                "[impersonation]",
                "protected_users = [\"root\"]",
                "")).toString();

        Configuration hadoop = new Configuration(false);
        hadoop.set(ProxidHolder.CONFIG_KEY, conf);
        String p = prefix == null ? "hadoop.proxyuser" : prefix;
        hadoop.set(p + "." + proxy + ".users", byName);
        hadoop.set(p + "." + proxy + ".groups", group);
        hadoop.set(p + "." + proxy + ".hosts", "127.0.0.1,10.0.0.0/8");
        hadoop.set(p + "." + otherProxy + ".users", "*");
        hadoop.set(p + "." + otherProxy + ".hosts", "*");
        if (prefix != null) {
            // Under the default prefix, which this provider was not told to read.
            hadoop.set("hadoop.proxyuser." + byName + ".users", "*");
            hadoop.set("hadoop.proxyuser." + byName + ".hosts", "*");
        }
        Case[] cases = {
            new Case(proxy, byGroup, "127.0.0.1"),
            new Case(proxy, byName, "10.1.2.3"),
            new Case(proxy, other, "127.0.0.1"),
            new Case(proxy, byName, "192.168.1.1"),
            new Case(otherProxy, other, "192.168.1.1"),
            new Case(byName, other, "127.0.0.1"),
            new Case(other, byName, "127.0.0.1"),
        };
        boolean[] expected = new boolean[cases.length];
        int allowed = 0;
        for (String provider : new String[] {DefaultImpersonationProvider.class.getName(),
                ProxidImpersonationProvider.class.getName()}) {
            hadoop.set("hadoop.security.impersonation.provider.class", provider);
            if (prefix == null) {
                ProxyUsers.refreshSuperUserGroupsConfiguration(hadoop);
            } else {
                ProxyUsers.refreshSuperUserGroupsConfiguration(hadoop, prefix);
            }
            boolean hadoopDefault = provider.equals(DefaultImpersonationProvider.class.getName());
            for (int i = 0; i < cases.length; i++) {
                Case c = cases[i];
                boolean allows = hadoopAllows(c.proxy, c.user, c.host);
                if (hadoopDefault) {
                    expected[i] = allows;
                    allowed += allows ? 1 : 0;
                } else {
                    assertEquals(expected[i], allows, c + " with prefix " + p);
                }
            }
            // root: Hadoop lets `users=*` reach it; proxid.conf protects it.
            assertEquals(hadoopDefault, hadoopAllows(otherProxy, "root", "127.0.0.1"),
                    "root by " + provider);
        }
        assertTrue(allowed >= 3 && allowed < cases.length, "the table allows " + allowed);
    }

    @Test
    void rulesOnlyInTheHadoopConfigurationAreTheProvidersRules() throws Exception {
        configurationRulesAgreeWithHadoop(null);
    }

    @Test
    void aCustomPrefixFromInitIsRead() throws Exception {
        configurationRulesAgreeWithHadoop("my.gateway.proxyuser");
    }

    @Test
    void proxidConfRulesApplyBesideTheConfigurationsAndTheAuditNamesTheSource()
            throws Exception {
        List<String> users = new ArrayList<>();
        for (TestSupport.Account a : TestSupport.localAccounts()) {
            if (a.uid != 0) {
                users.add(a.name);
            }
        }
        String proxy = users.get(0);
        String fromConf = users.get(1);
        String fromHadoop = users.get(2);
        java.nio.file.Path audit = java.nio.file.Files.createTempDirectory(
                java.nio.file.Paths.get(System.getProperty("java.io.tmpdir")), "audit");
        java.nio.file.Path log = audit.resolve("audit.log");
        String conf = TestSupport.writeConfig("beside.conf", String.join("\n",
                "[impersonation]",
                "audit_log = " + quoted(log.toString()),
                "[[impersonation.proxy]]",
                "user = " + quoted(proxy),
                "hosts = [\"*\"]",
                "users = [" + quoted(fromConf) + "]",
                "")).toString();
        Configuration hadoop = new Configuration(false);
        hadoop.set("hadoop.security.impersonation.provider.class",
                ProxidImpersonationProvider.class.getName());
        hadoop.set(ProxidHolder.CONFIG_KEY, conf);
        hadoop.set("hadoop.proxyuser." + proxy + ".users", fromHadoop);
        hadoop.set("hadoop.proxyuser." + proxy + ".hosts", "127.0.0.1");
        ProxyUsers.refreshSuperUserGroupsConfiguration(hadoop);
        assertTrue(hadoopAllows(proxy, fromConf, "192.0.2.1"), "by proxid.conf's rule");
        assertTrue(hadoopAllows(proxy, fromHadoop, "127.0.0.1"), "by the Configuration's rule");
        // One rule must allow both: the Configuration's user from proxid.conf's hosts is not enough.
        assertTrue(!hadoopAllows(proxy, fromHadoop, "192.0.2.1"), "rules merged across sources");
        String lines = new String(java.nio.file.Files.readAllBytes(log),
                java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(lines.contains("hadoop.proxyuser." + proxy + " (Hadoop Configuration)"), lines);
        assertTrue(lines.contains("proxy " + proxy + " (proxid.conf)"), lines);
    }

    @Test
    void aBadRuleInTheConfigurationFailsClosed() throws Exception {
        String conf = TestSupport.writeConfig("bad-rule.conf", "").toString();
        Configuration hadoop = new Configuration(false);
        hadoop.set("hadoop.security.impersonation.provider.class",
                ProxidImpersonationProvider.class.getName());
        hadoop.set(ProxidHolder.CONFIG_KEY, conf);
        hadoop.set("hadoop.proxyuser.root.users", "*");
        hadoop.set("hadoop.proxyuser.root.hosts", "10.0.0.0/33");
        ProxyUsers.refreshSuperUserGroupsConfiguration(hadoop);
        String user = TestSupport.localAccounts().get(1).name;
        try {
            ProxyUsers.authorize(UserGroupInformation.createProxyUser(user,
                    UserGroupInformation.createRemoteUser("root")), "10.0.0.1");
            throw new AssertionError("allowed with a malformed hosts value");
        } catch (AuthorizationException expected) {
            assertTrue(expected.getMessage().contains("proxid"), expected.getMessage());
        }
    }
}
