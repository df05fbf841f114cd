package org.proxid;

import java.util.Objects;

/** A group as a user belongs to it. Immutable. */
public final class Group {
    private final String name;
    private final long gid;

    public Group(String name, long gid) {
        this.name = Objects.requireNonNull(name, "name");
        this.gid = gid;
    }

    /** The group's name, or its GID in decimal when no group entry exists (as {@code id -Gn}). */
    public String name() {
        return name;
    }

    /** The GID, 0 to 2^32-1. */
    public long gid() {
        return gid;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Group)) {
            return false;
        }
        Group other = (Group) o;
        return gid == other.gid && name.equals(other.name);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, gid);
    }

    @Override
    public String toString() {
        return name + "(" + gid + ")";
    }
}
