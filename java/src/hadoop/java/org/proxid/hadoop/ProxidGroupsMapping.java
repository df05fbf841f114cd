package org.proxid.hadoop;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.hadoop.security.GroupMappingServiceProvider;
import org.proxid.InvalidNameException;
import org.proxid.NotFoundException;
import org.proxid.ProxidException;

/**
 * Hadoop group mapping answered by proxid, so HDFS, YARN and friends see the same
 * groups as every other proxid front door. In {@code core-site.xml}:
 *
 * <pre>{@code
 * <property>
 *   <name>hadoop.security.group.mapping</name>
 *   <value>org.proxid.hadoop.ProxidGroupsMapping</value>
 * </property>
 * }</pre>
 *
 * <p>Group names come primary group first, as Hadoop's shell and JNI mappings return
 * them. An unknown or malformed user name has no groups (Hadoop then reports "No groups
 * found"); a source that cannot answer is an {@link IOException}, so Hadoop does not
 * cache it as "no groups".
 */
public class ProxidGroupsMapping extends ProxidConfigured
        implements GroupMappingServiceProvider {
    @Override
    public List<String> getGroups(String user) throws IOException {
        try {
            return new ArrayList<>(holder().call(p -> p.groups(user)));
        } catch (NotFoundException | InvalidNameException e) {
            return Collections.emptyList();
        } catch (ProxidException e) {
            throw new IOException("proxid: groups of " + user + ": " + e.getMessage(), e);
        }
    }

    /** Hadoop's cache refresh ({@code -refreshUserToGroupsMappings}) empties proxid's cache too. */
    @Override
    public void cacheGroupsRefresh() throws IOException {
        try {
            holder().call(p -> {
                p.invalidate(null);
                return null;
            });
        } catch (ProxidException e) {
            throw new IOException("proxid: cache refresh: " + e.getMessage(), e);
        }
    }

    /** Only netgroup mappings use this; proxid resolves groups on demand. */
    @Override
    public void cacheGroupsAdd(List<String> groups) {}
}
