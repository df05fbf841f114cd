package org.proxid;

/** A bug in proxid (a Rust panic or a failed JNI call), caught at the boundary. The process is intact; report it. Kind {@code "internal"}. */
public class InternalException extends ProxidException {
    private static final long serialVersionUID = 1L;

    public InternalException(String message) {
        super("internal", message);
    }

    protected InternalException(String kind, String message) {
        super(kind, message);
    }
}
