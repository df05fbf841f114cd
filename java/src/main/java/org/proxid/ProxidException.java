package org.proxid;

/**
 * A failure reported by proxid. Each subclass is one failure kind and says what the
 * caller should do about it; {@link #kind()} is the same stable word the CLI's
 * {@code --json} output and the C ABI use ({@code "not_found"}, {@code "unavailable"}...).
 *
 * <p>Checked on purpose: "no such user" and "directory down" are ordinary outcomes a
 * caller must decide about, and they call for different decisions.
 */
public class ProxidException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String kind;

    /** For failure kinds this version of the Java API has no subclass for. */
    public ProxidException(String kind, String message) {
        super(message);
        this.kind = kind;
    }

    /** The stable, machine-readable failure kind. */
    public String kind() {
        return kind;
    }
}
