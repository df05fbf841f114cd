package org.proxid;

/** Client and server disagree on who resolves names. Align {@code [resolution]} on both. Kind {@code "mode_mismatch"}. */
public class ModeMismatchException extends ProxidException {
    private static final long serialVersionUID = 1L;

    public ModeMismatchException(String message) {
        super("mode_mismatch", message);
    }

    protected ModeMismatchException(String kind, String message) {
        super(kind, message);
    }
}
