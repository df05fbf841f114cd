package org.proxid;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A resolved user: the numbers a client presents and a server acts as. Immutable.
 * IDs are {@code long} because Unix IDs are unsigned 32-bit numbers.
 */
public final class Identity {
    private final String name;
    private final long uid;
    private final long gid;
    private final List<Group> groups;
    private final String home;
    private final String shell;
    private final String source;

    public Identity(String name, long uid, long gid, List<Group> groups, String home, String shell,
            String source) {
        this.name = Objects.requireNonNull(name, "name");
        this.uid = uid;
        this.gid = gid;
        this.groups = Collections.unmodifiableList(new ArrayList<>(groups));
        this.home = Objects.requireNonNull(home, "home");
        this.shell = Objects.requireNonNull(shell, "shell");
        this.source = Objects.requireNonNull(source, "source");
    }

    /** Called from native code: groups arrive as two parallel arrays. */
    Identity(String name, long uid, long gid, String[] groupNames, long[] groupGids, String home,
            String shell, String source) {
        this(name, uid, gid, zip(groupNames, groupGids), home, shell, source);
    }

    private static List<Group> zip(String[] names, long[] gids) {
        if (names.length != gids.length) {
            throw new IllegalArgumentException("group names and gids differ in length");
        }
        List<Group> groups = new ArrayList<>(names.length);
        for (int i = 0; i < names.length; i++) {
            groups.add(new Group(names[i], gids[i]));
        }
        return groups;
    }

    public String name() {
        return name;
    }

    public long uid() {
        return uid;
    }

    /** The primary GID; always {@code groups().get(0).gid()}. */
    public long gid() {
        return gid;
    }

    /** Primary group first, then supplementary groups, without duplicates. */
    public List<Group> groups() {
        return groups;
    }

    /** Group names, primary first: the shape Hadoop's group mapping returns. */
    public List<String> groupNames() {
        List<String> names = new ArrayList<>(groups.size());
        for (Group g : groups) {
            names.add(g.name());
        }
        return Collections.unmodifiableList(names);
    }

    /** All GIDs, primary first. */
    public long[] gids() {
        long[] gids = new long[groups.size()];
        for (int i = 0; i < gids.length; i++) {
            gids[i] = groups.get(i).gid();
        }
        return gids;
    }

    public String home() {
        return home;
    }

    public String shell() {
        return shell;
    }

    /** Which source answered: {@code "local"} or {@code "ldap"}. */
    public String source() {
        return source;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Identity)) {
            return false;
        }
        Identity other = (Identity) o;
        return uid == other.uid && gid == other.gid && name.equals(other.name)
                && groups.equals(other.groups) && home.equals(other.home)
                && shell.equals(other.shell) && source.equals(other.source);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, uid, gid, groups, home, shell, source);
    }

    @Override
    public String toString() {
        return "Identity{" + name + " uid=" + uid + " gid=" + gid + " groups=" + groups + "}";
    }
}
