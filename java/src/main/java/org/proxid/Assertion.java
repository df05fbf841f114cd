package org.proxid;

import java.util.Arrays;
import java.util.Objects;

/**
 * What a client sends for one identity: the name, plus the UID and GIDs when the
 * client resolved them itself ({@code [resolution] mode = "client"}), or the name only
 * ({@code mode = "server"}: the server resolves). A server passes two of them, the
 * proxy's and the target user's, to {@link Proxid#admit(Assertion, Assertion, String)}.
 * Immutable.
 */
public final class Assertion {
    private final String name;
    private final long uid;
    private final long[] gids; // null: name only

    private Assertion(String name, long uid, long[] gids) {
        this.name = Objects.requireNonNull(name, "name");
        this.uid = uid;
        this.gids = gids;
    }

    /** A name-only assertion: the client asks the server to resolve {@code name}. */
    public static Assertion nameOnly(String name) {
        return new Assertion(name, -1, null);
    }

    /**
     * A client-resolved assertion: {@code name} with the UID and GIDs (primary first)
     * the client's registry gave. IDs outside 0..2^32-1 throw
     * {@link IllegalArgumentException}; an empty GID list too (the primary GID is
     * always there).
     */
    public static Assertion resolved(String name, long uid, long... gids) {
        Objects.requireNonNull(gids, "gids");
        checkId("uid", uid);
        if (gids.length == 0) {
            throw new IllegalArgumentException("gids is empty: the primary GID comes first");
        }
        for (long gid : gids) {
            checkId("gid", gid);
        }
        return new Assertion(name, uid, gids.clone());
    }

    /** The assertion a client would send for {@code id}, resolved on its side. */
    public static Assertion of(Identity id) {
        return resolved(id.name(), id.uid(), id.gids());
    }

    private static void checkId(String what, long id) {
        if (id < 0 || id > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(what + " " + id + " is outside 0..4294967295");
        }
    }

    public String name() {
        return name;
    }

    /** True when the client sent UID and GIDs, false for a name-only assertion. */
    public boolean hasIds() {
        return gids != null;
    }

    /** The client's UID, or -1 for a name-only assertion. */
    public long uid() {
        return uid;
    }

    /** The client's GIDs, primary first (a copy), or null for a name-only assertion. */
    public long[] gids() {
        return gids == null ? null : gids.clone();
    }

    long[] gidsUnsafe() {
        return gids;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Assertion)) {
            return false;
        }
        Assertion a = (Assertion) o;
        return name.equals(a.name) && uid == a.uid && Arrays.equals(gids, a.gids);
    }

    @Override
    public int hashCode() {
        return 31 * Objects.hash(name, uid) + Arrays.hashCode(gids);
    }

    @Override
    public String toString() {
        return gids == null
                ? "Assertion{" + name + "}"
                : "Assertion{" + name + " uid=" + uid + " gids=" + Arrays.toString(gids) + "}";
    }
}
