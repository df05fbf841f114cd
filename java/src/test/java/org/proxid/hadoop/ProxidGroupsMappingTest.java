package org.proxid.hadoop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.security.Groups;
import org.junit.jupiter.api.Test;
import org.proxid.TestSupport;

/** Hadoop's own Groups service, configured with ProxidGroupsMapping, inside real Hadoop 3.3.4. */
class ProxidGroupsMappingTest {
    private static Configuration hadoopConf(String proxidConf) {
        Configuration conf = new Configuration(false);
        conf.set("hadoop.security.group.mapping", ProxidGroupsMapping.class.getName());
        conf.set(ProxidHolder.CONFIG_KEY, proxidConf);
        return conf;
    }

    /** `proxid groups USER` prints "USER : g1 g2 ...", like `hdfs groups`. */
    private static List<String> cliGroups(String conf, String user) {
        TestSupport.Result r = TestSupport.run(TestSupport.cli(), "--config", conf, "groups", "--", user);
        assertEquals(0, r.status, "proxid groups " + user);
        String prefix = user + " : ";
        assertTrue(r.out.startsWith(prefix), r.out);
        return Arrays.asList(r.out.substring(prefix.length()).trim().split(" "));
    }

    @Test
    void hadoopGroupsAgreeWithTheCliForEveryLocalUser() throws IOException {
        String conf = TestSupport.writeConfigUnchecked("hadoop-groups.conf", "");
        Groups groups = new Groups(hadoopConf(conf));
        for (TestSupport.Account a : TestSupport.localAccounts()) {
            assertEquals(cliGroups(conf, a.name), groups.getGroups(a.name), a.name);
        }
    }

    @Test
    void unknownUserHasNoGroupsInHadoop() throws IOException {
        String conf = TestSupport.writeConfigUnchecked("hadoop-groups.conf", "");
        Groups groups = new Groups(hadoopConf(conf));
        // Hadoop turns an empty list into "No groups found for user".
        assertThrows(IOException.class, () -> groups.getGroups(TestSupport.unknownUser()));
        assertThrows(IOException.class, () -> groups.getGroups("bad\u0000name"));
        groups.refresh(); // reaches cacheGroupsRefresh
        assertEquals(cliGroups(conf, "root"), groups.getGroups("root"));
    }

    @Test
    void brokenProxidConfigurationIsAnIOExceptionNotNoGroups() throws IOException {
        String conf = TestSupport.writeConfigUnchecked("hadoop-broken.conf", "[resolution\n");
        ProxidGroupsMapping mapping = new ProxidGroupsMapping();
        mapping.setConf(hadoopConf(conf));
        IOException e = assertThrows(IOException.class, () -> mapping.getGroups("root"));
        assertTrue(e.getMessage().contains("proxid"), e.getMessage());
    }
}
