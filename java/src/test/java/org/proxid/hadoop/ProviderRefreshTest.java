package org.proxid.hadoop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.authorize.ProxyUsers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Issue 11.16: Hadoop builds a new provider on every refresh and never closes the old
 * one. In LDAP mode each used to keep a native runtime thread and its pooled sockets;
 * 100 refreshes (each followed by a decision over LDAP) must leave the process with
 * about as many threads and sockets as before.
 */
class ProviderRefreshTest {
    private static final int REFRESHES = 100;
    /** JIT compiler and GC threads come and go; a leak would add REFRESHES of them. */
    private static final int THREAD_SLACK = 6;
    /** One pool's worth of connections (the test config has `connections = 2`). */
    private static final int SOCKET_SLACK = 2;

    @AfterAll
    static void restoreHadoopDefault() {
        ProxyUsers.refreshSuperUserGroupsConfiguration(new Configuration(false));
    }

    private static String ldapConf() {
        String conf = System.getProperty("proxid.test.ldap.conf");
        Assumptions.assumeTrue(conf != null, "no slapd (system property proxid.test.ldap.conf)");
        return conf;
    }

    private static int threads() {
        String[] tasks = new File("/proc/self/task").list();
        return tasks == null ? -1 : tasks.length;
    }

    private static int sockets() throws IOException {
        int n = 0;
        try (Stream<Path> fds = Files.list(Paths.get("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith("socket:")) {
                        n++;
                    }
                } catch (IOException closedMeanwhile) {
                    // the listing's own descriptor, or one closed since
                }
            }
        }
        return n;
    }

    /** Threads and sockets settle (the old runtimes stop in the background). */
    private static int[] settled(int threadsBefore, int socketsBefore) throws Exception {
        int t = threads();
        int s = sockets();
        for (int i = 0; i < 100 && (t > threadsBefore + THREAD_SLACK
                || s > socketsBefore + SOCKET_SLACK); i++) {
            Thread.sleep(100);
            t = threads();
            s = sockets();
        }
        return new int[] {t, s};
    }

    private static Configuration hadoopConf(String proxidConf) {
        Configuration hadoop = new Configuration(false);
        hadoop.set("hadoop.security.impersonation.provider.class",
                ProxidImpersonationProvider.class.getName());
        hadoop.set(ProxidHolder.CONFIG_KEY, proxidConf);
        // The rule lives only in the Hadoop configuration (issue 11.17).
        hadoop.set("hadoop.proxyuser.alice.users", "bob");
        hadoop.set("hadoop.proxyuser.alice.hosts", "*");
        return hadoop;
    }

    private static void refreshAndDecide(Configuration hadoop) throws Exception {
        ProxyUsers.refreshSuperUserGroupsConfiguration(hadoop);
        UserGroupInformation ugi = UserGroupInformation.createProxyUser("bob",
                UserGroupInformation.createRemoteUser("alice"));
        ProxyUsers.authorize(ugi, "127.0.0.1"); // resolves bob over LDAP, allowed
    }

    @Test
    void refreshingTheImpersonationProviderLeaksNoThreadOrSocket() throws Exception {
        Configuration hadoop = hadoopConf(ldapConf());
        for (int i = 0; i < 5; i++) {
            refreshAndDecide(hadoop); // warm up: the JVM's own threads settle
        }
        int threadsBefore = threads();
        int socketsBefore = sockets();
        for (int i = 0; i < REFRESHES; i++) {
            refreshAndDecide(hadoop);
        }
        int[] after = settled(threadsBefore, socketsBefore);
        System.out.println("impersonation provider: " + REFRESHES + " refreshes: threads "
                + threadsBefore + " -> " + after[0] + ", sockets " + socketsBefore + " -> "
                + after[1]);
        assertTrue(after[0] <= threadsBefore + THREAD_SLACK, "threads " + threadsBefore
                + " -> " + after[0] + " after " + REFRESHES + " refreshes");
        assertTrue(after[1] <= socketsBefore + SOCKET_SLACK, "sockets " + socketsBefore
                + " -> " + after[1] + " after " + REFRESHES + " refreshes");
        assertTrue(ProxidHolder.openCount() <= 2, "open resolvers: " + ProxidHolder.openCount());
    }

    @Test
    void recreatingTheGroupsMappingLeaksNoThreadOrSocket() throws Exception {
        Configuration hadoop = hadoopConf(ldapConf());
        ProxidGroupsMapping warm = new ProxidGroupsMapping();
        warm.setConf(hadoop);
        assertEquals(Arrays.asList("staff"), warm.getGroups("bob").subList(0, 1));
        int threadsBefore = threads();
        int socketsBefore = sockets();
        for (int i = 0; i < REFRESHES; i++) {
            ProxidGroupsMapping mapping = new ProxidGroupsMapping();
            mapping.setConf(hadoop);
            assertEquals("staff", mapping.getGroups("bob").get(0));
        }
        int[] after = settled(threadsBefore, socketsBefore);
        System.out.println("groups mapping: " + REFRESHES + " new mappings: threads "
                + threadsBefore + " -> " + after[0] + ", sockets " + socketsBefore + " -> "
                + after[1]);
        assertTrue(after[0] <= threadsBefore + THREAD_SLACK, "threads " + threadsBefore
                + " -> " + after[0]);
        assertTrue(after[1] <= socketsBefore + SOCKET_SLACK, "sockets " + socketsBefore
                + " -> " + after[1]);
        // The first mapping's resolver was replaced under it; it still answers.
        assertEquals("staff", warm.getGroups("bob").get(0));
    }
}
