package org.proxid;

/** The configuration is wrong. Fix the file named in the message. Kind {@code "config"}. */
public class ConfigException extends ProxidException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super("config", message);
    }

    protected ConfigException(String kind, String message) {
        super(kind, message);
    }
}
